/**
 * The report's script and style, inlined into the HTML (no CDN, no fetch). Written as plain ES2020 in
 * a string because the library is compiled without DOM types; the Chromium test exercises it.
 */
export const REPORT_CSS = String.raw`
:root { --fg:#1d2330; --muted:#667085; --line:#e4e7ec; --bg:#fff; --accent:#2f6fde; --bad:#c4320a; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header { padding: 20px 28px 8px; border-bottom: 1px solid var(--line); }
h1 { font-size: 20px; margin: 0 0 4px; word-break: break-all; }
h2 { font-size: 16px; margin: 22px 0 8px; }
.sub { color: var(--muted); font-size: 12px; word-break: break-all; }
main { padding: 0 28px 40px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0 6px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 130px; }
.card b { display: block; font-size: 18px; }
.card span { color: var(--muted); font-size: 12px; }
.card.bad b { color: var(--bad); }
#layer-chart { width: 100%; height: 220px; display: block; }
#layer-chart .bar { cursor: pointer; }
#layer-chart .bar.dim { opacity: .25; }
#layer-chart .bar.selected { stroke: #000; stroke-width: 2; }
#layer-chart text { font-size: 11px; fill: var(--muted); pointer-events: none; }
#filter-note { margin: 6px 0; color: var(--muted); }
#filter-note button { margin-left: 8px; }
#layer-detail { display: flex; flex-wrap: wrap; gap: 24px; font-size: 13px; }
#layer-detail ul { margin: 4px 0; padding-left: 18px; }
#crumbs { margin: 4px 0 6px; }
#crumbs a { color: var(--accent); cursor: pointer; text-decoration: none; }
#treemap { width: 100%; height: 560px; display: block; border: 1px solid var(--line); background: #fafbfc; }
#treemap .cell { stroke: #fff; stroke-width: .5; cursor: pointer; }
#treemap .dir { fill-opacity: .18; stroke: #98a2b3; stroke-width: .7; }
#treemap text { font-size: 11px; fill: #111; pointer-events: none; }
#treemap text.dirlabel { font-weight: 600; }
ol#finding-list { padding-left: 20px; }
ol#finding-list li { margin: 8px 0; }
.fix { color: #067647; }
.tag { display: inline-block; font-size: 11px; border-radius: 4px; padding: 0 6px; margin-right: 6px; color: #fff; }
.tag.waste { background: #b42318; } .tag.junk { background: #b54708; } .tag.toolchain { background: #6941c6; } .tag.duplicate { background: #175cd3; }
table { border-collapse: collapse; margin: 6px 0; }
td, th { border-bottom: 1px solid var(--line); padding: 3px 10px 3px 0; text-align: left; font-size: 13px; vertical-align: top; }
td.num, th.num { text-align: right; padding-right: 14px; white-space: nowrap; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: middle; }
`;

export const REPORT_JS = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('layerwise-data').textContent);
  var report = data.report;
  var NS = 'http://www.w3.org/2000/svg';
  var nLayers = report.layers.length;
  var filter = null;
  var zoom = null;

  function fmt(n) {
    var u = ['B', 'KB', 'MB', 'GB', 'TB'], i = 0, v = Math.abs(n);
    while (v >= 1000 && i < u.length - 1) { v /= 1000; i++; }
    var t = i === 0 ? String(v) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
    return (n < 0 ? '-' : '') + t + ' ' + u[i];
  }
  function color(layer) { return 'hsl(' + ((layer * 137.508) % 360).toFixed(1) + ',62%,52%)'; }
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function h(tag, text, parent, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  }

  // The tree arrives as nested arrays; give it parents and per-layer sizes so a filter is a lookup.
  function index(a, parent) {
    var n = { name: a[0], size: a[1], layer: a[2], parent: parent, children: null, byLayer: null };
    if (a[3]) {
      n.children = [];
      n.byLayer = new Array(nLayers).fill(0);
      for (var i = 0; i < a[3].length; i++) {
        var c = index(a[3][i], n);
        n.children.push(c);
        if (c.children) { for (var l = 0; l < nLayers; l++) n.byLayer[l] += c.byLayer[l]; }
        else if (c.layer < nLayers) n.byLayer[c.layer] += c.size;
      }
    }
    return n;
  }
  var root = index(data.tree, null);
  zoom = root;

  function sizeOf(n) {
    if (filter === null) return n.size;
    return n.children ? n.byLayer[filter] : (n.layer === filter ? n.size : 0);
  }
  function dominant(n) {
    if (filter !== null) return filter;
    if (!n.children) return n.layer;
    var best = 0;
    for (var l = 1; l < nLayers; l++) if (n.byLayer[l] > n.byLayer[best]) best = l;
    return best;
  }
  function pathOf(n) {
    var parts = [];
    for (var c = n; c && c.parent; c = c.parent) parts.unshift(c.name);
    return '/' + parts.join('/');
  }

  // Squarified treemap (Bruls, Huizing, van Wijk): rows whose worst aspect ratio stops improving are laid out.
  function squarify(items, x, y, w, hgt) {
    var out = [];
    var total = 0;
    for (var i = 0; i < items.length; i++) total += items[i].v;
    if (total <= 0 || w <= 0 || hgt <= 0) return out;
    var scale = (w * hgt) / total;
    var rest = items.map(function (it) { return { item: it, area: it.v * scale }; });
    while (rest.length > 0) {
      var side = Math.min(w, hgt);
      var row = [];
      var rowArea = 0;
      var worst = Infinity;
      while (rest.length > 0) {
        var next = rest[0];
        var a2 = rowArea + next.area;
        var mx = Math.max(next.area, row.length ? row[0].area : 0);
        var mn = next.area;
        for (var j = 0; j < row.length; j++) { mx = Math.max(mx, row[j].area); mn = Math.min(mn, row[j].area); }
        var s2 = side * side;
        var wr = Math.max((s2 * mx) / (a2 * a2), (a2 * a2) / (s2 * mn));
        if (row.length > 0 && wr > worst) break;
        row.push(rest.shift());
        rowArea = a2;
        worst = wr;
      }
      var thick = rowArea / side;
      var off = 0;
      for (var k = 0; k < row.length; k++) {
        var len = row[k].area / thick;
        if (w >= hgt) out.push({ item: row[k].item, x: x, y: y + off, w: thick, h: len });
        else out.push({ item: row[k].item, x: x + off, y: y, w: len, h: thick });
        off += len;
      }
      if (w >= hgt) { x += thick; w -= thick; } else { y += thick; hgt -= thick; }
    }
    return out;
  }

  function visibleKids(n) {
    var k = 0;
    for (var i = 0; i < n.children.length; i++) if (sizeOf(n.children[i]) > 0) k++;
    return k;
  }

  function drawNode(svg, n, x, y, w, hgt, depth) {
    var kids = (n.children || []).map(function (c) { return { node: c, v: sizeOf(c) }; }).filter(function (c) { return c.v > 0; });
    var rects = squarify(kids, x, y, w, hgt);
    for (var i = 0; i < rects.length; i++) {
      var r = rects[i], c = r.item.node;
      if (r.w < 0.5 || r.h < 0.5) continue;
      var lay = dominant(c);
      var rect = el('rect', { x: r.x.toFixed(2), y: r.y.toFixed(2), width: r.w.toFixed(2), height: r.h.toFixed(2), fill: color(lay), 'data-layer': String(lay), 'data-path': pathOf(c), class: 'cell' + (c.children ? ' dir' : '') }, svg);
      el('title', {}, rect).textContent = pathOf(c) + '  ' + fmt(r.item.v) + '  (layer ' + lay + ')';
      (function (node) {
        rect.addEventListener('click', function (ev) { ev.stopPropagation(); if (node.children) { zoom = node; renderTreemap(); } });
      })(c);
      var deep = c.children && depth < 2 && r.w > 40 && r.h > 30;
      if (r.w > 46 && r.h > 14) {
        var label = el('text', { x: (r.x + 3).toFixed(2), y: (r.y + 12).toFixed(2), class: c.children ? 'dirlabel' : '' }, svg);
        var maxChars = Math.floor((r.w - 6) / 6.5);
        var t = c.name + ' ' + fmt(r.item.v);
        label.textContent = t.length > maxChars ? t.slice(0, Math.max(1, maxChars - 1)) + '…' : t;
      }
      // A folder that holds a single entry (var/ around lib/) costs no depth: chains stay readable.
      if (deep) drawNode(svg, c, r.x + 2, r.y + 16, r.w - 4, r.h - 18, depth + (visibleKids(c) > 1 ? 1 : 0));
    }
  }

  function renderCrumbs() {
    var box = document.getElementById('crumbs');
    box.textContent = '';
    var chain = [];
    for (var c = zoom; c; c = c.parent) chain.unshift(c);
    chain.forEach(function (n, i) {
      if (i > 0) box.appendChild(document.createTextNode(' / '));
      var a = h('a', i === 0 ? '/' : n.name, box);
      a.setAttribute('data-depth', String(i));
      a.addEventListener('click', function () { zoom = n; renderTreemap(); });
    });
    box.appendChild(document.createTextNode('  ' + fmt(sizeOf(zoom)) + (filter !== null ? ' from layer ' + filter : '')));
  }

  function renderTreemap() {
    var svg = document.getElementById('treemap');
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    // Lay out in the element's own pixels, so the map fills it without letterboxing.
    var W = svg.clientWidth || 1200, H = svg.clientHeight || 560;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    drawNode(svg, zoom, 0, 0, W, H, 0);
    renderCrumbs();
  }

  function renderChart() {
    var svg = document.getElementById('layer-chart');
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var W = svg.clientWidth || 1200, H = svg.clientHeight || 220, top = 10, bottom = 30;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    var max = 1;
    report.layers.forEach(function (l) { max = Math.max(max, l.tarBytes); });
    var slot = W / Math.max(1, nLayers);
    var bw = Math.max(4, Math.min(80, slot * 0.7));
    report.layers.forEach(function (l, i) {
      var hh = Math.max(2, ((H - top - bottom) * l.tarBytes) / max);
      var x = i * slot + (slot - bw) / 2;
      var y = H - bottom - hh;
      var cls = 'bar' + (filter === i ? ' selected' : filter !== null ? ' dim' : '');
      var bar = el('rect', { x: x.toFixed(2), y: y.toFixed(2), width: bw.toFixed(2), height: hh.toFixed(2), fill: color(i), class: cls, 'data-layer': String(i) }, svg);
      el('title', {}, bar).textContent = 'layer ' + i + ': ' + fmt(l.tarBytes) + ' (' + fmt(l.compressedBytes) + ' compressed), wasted ' + fmt(l.wastedBytes) + '\n' + l.step;
      bar.addEventListener('click', function () { setFilter(filter === i ? null : i); });
      if (l.wastedBytes > 0) {
        var wh = Math.max(1, (hh * l.wastedBytes) / Math.max(1, l.tarBytes));
        var waste = el('rect', { x: x.toFixed(2), y: y.toFixed(2), width: bw.toFixed(2), height: wh.toFixed(2), fill: 'url(#hatch)', class: 'waste', 'pointer-events': 'none' }, svg);
        waste.setAttribute('data-layer', String(i));
      }
      var t = el('text', { x: (x + bw / 2).toFixed(2), y: String(H - bottom + 14), 'text-anchor': 'middle' }, svg);
      t.textContent = String(i);
      if (bw > 30) {
        var s = el('text', { x: (x + bw / 2).toFixed(2), y: String(H - bottom + 26), 'text-anchor': 'middle' }, svg);
        s.textContent = fmt(l.tarBytes);
      }
    });
    var defs = el('defs', {}, svg);
    var pat = el('pattern', { id: 'hatch', width: '6', height: '6', patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' }, defs);
    el('rect', { width: '6', height: '6', fill: 'rgba(255,255,255,.35)' }, pat);
    el('line', { x1: '0', y1: '0', x2: '0', y2: '6', stroke: '#b42318', 'stroke-width': '3' }, pat);
  }

  function renderFindings() {
    var list = document.getElementById('finding-list');
    list.textContent = '';
    var shown = 0;
    report.findings.forEach(function (f) {
      if (filter !== null && f.layer !== filter && !(f.hiddenBy && f.hiddenBy.layer === filter)) return;
      var li = h('li', null, list);
      li.setAttribute('data-layer', String(f.layer));
      li.setAttribute('data-rule', f.rule);
      h('span', f.kind, li, 'tag ' + f.kind);
      h('span', f.title, li);
      var fix = h('div', null, li, 'fix');
      fix.textContent = 'Fix: ' + f.fix + ' (saves ' + fmt(f.savings) + ')';
      shown++;
    });
    if (shown === 0) h('li', filter === null ? 'No findings.' : 'No findings for layer ' + filter + '.', list).className = 'none';
  }

  function renderLayerDetail() {
    var box = document.getElementById('layer-detail');
    box.textContent = '';
    if (filter === null) return;
    var l = report.layers[filter];
    [['added', l.added], ['modified', l.modified], ['removed', l.removed]].forEach(function (kv) {
      var kind = kv[0], c = kv[1];
      var div = h('div', null, box, 'changes ' + kind);
      h('b', kind + ': ' + c.files + ' file' + (c.files === 1 ? '' : 's') + ', ' + fmt(c.bytes), div);
      var ul = h('ul', null, div);
      l.changes[kind].slice(0, 10).forEach(function (p) { h('li', p.path + '  ' + fmt(p.bytes), ul); });
    });
  }

  function setFilter(l) {
    filter = l;
    // A zoomed folder may hold nothing from the chosen layer; step out until it does.
    while (zoom.parent && sizeOf(zoom) === 0) zoom = zoom.parent;
    var note = document.getElementById('filter-note');
    note.textContent = l === null ? 'All layers. Click a bar to show only what that layer wrote.' : 'Showing layer ' + l + ': ' + report.layers[l].step;
    if (l !== null) {
      var b = h('button', 'show all layers', note);
      b.addEventListener('click', function () { setFilter(null); });
    }
    renderChart();
    renderLayerDetail();
    renderTreemap();
    renderFindings();
  }

  setFilter(null);
})();
`;
