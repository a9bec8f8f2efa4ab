import { formatBytes } from '../../analyze/bytes.js';
import type { Analysis } from '../../analyze/analyze.js';
import { REPORT_CSS, REPORT_JS } from './client.js';
import { buildTree } from './tree.js';

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON inside <script>: "<" escaped so no string in the data can close the element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * One self-contained HTML file: per-layer bar chart, a zoomable squarified treemap of the final
 * filesystem coloured by the layer that last wrote each file, and the findings with their fixes.
 * Everything (data, CSS, script) is inline; the page makes no request.
 */
export function renderAnalyzeHtml(analysis: Analysis): string {
  const r = analysis.report;
  const t = r.totals;
  const tree = buildTree(analysis.fs.root, analysis.totals);
  const card = (label: string, value: string, bad = false) => `<div class="card${bad ? ' bad' : ''}"><b>${esc(value)}</b><span>${esc(label)}</span></div>`;
  const swatch = (layer: number) => `<span class="swatch" style="background:hsl(${((layer * 137.508) % 360).toFixed(1)},62%,52%)"></span>`;
  const layerRows = r.layers
    .map((l) => `<tr><td>${swatch(l.layer)}${l.layer}</td><td class="num">${formatBytes(l.tarBytes)}</td><td class="num">${formatBytes(l.compressedBytes)}</td><td class="num">+${l.added.files} ~${l.modified.files} -${l.removed.files}</td><td class="num">${formatBytes(l.wastedBytes)}</td><td>${esc(l.step)}${l.line !== undefined ? ` <span class="sub">(line ${l.line})</span>` : ''}</td></tr>`)
    .join('\n');
  const pkgRows = r.packages
    .slice(0, 50)
    .map((p) => `<tr><td>${esc(p.ecosystem)}</td><td>${esc(p.name)}</td><td>${esc(p.version)}</td><td class="num">${formatBytes(p.bytes)}</td><td class="num">${p.files}</td><td>${p.layer}: ${esc(p.step.length > 70 ? p.step.slice(0, 69) + '…' : p.step)}</td></tr>`)
    .join('\n');
  const fileRows = r.largestFiles.map((f) => `<tr><td class="num">${formatBytes(f.bytes)}</td><td>${swatch(f.layer)}${f.layer}</td><td>${esc(f.path)}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>layerwise analyze: ${esc(r.reference)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<h1>${esc(r.reference)}</h1>
<div class="sub">image ${esc(r.imageId)} · ${esc(r.platform)}${r.dockerfile ? ` · Dockerfile ${esc(r.dockerfile)}` : ''}</div>
<div class="cards">
${card('layers (compressed)', formatBytes(t.compressedBytes))}
${card('files in final filesystem', formatBytes(t.finalBytes))}
${card(`wasted (${t.wastedPercent.toFixed(2)}% of stored)`, formatBytes(t.wastedBytes), t.wastedBytes > 0)}
${card('efficiency', t.efficiency.toFixed(4), t.efficiency < 0.95)}
${card('duplicates', formatBytes(t.duplicateBytes), t.duplicateBytes > 0)}
${card('junk', formatBytes(t.junkBytes), t.junkBytes > 0)}
${card('potential savings', formatBytes(t.potentialSavings), t.potentialSavings > 0)}
</div>
</header>
<main>
<h2>Layers</h2>
<svg id="layer-chart" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="size of each layer"></svg>
<div id="filter-note"></div>
<div id="layer-detail"></div>
<h2>Final filesystem</h2>
<div id="crumbs"></div>
<svg id="treemap" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="treemap of the final filesystem, coloured by layer"></svg>
<h2>Findings</h2>
<ol id="finding-list"></ol>
<h2>Layer details</h2>
<table><thead><tr><th>#</th><th class="num">size</th><th class="num">compressed</th><th class="num">files +added ~modified -removed</th><th class="num">wasted</th><th>step</th></tr></thead><tbody>
${layerRows}
</tbody></table>
<h2>Packages by size</h2>
${r.packages.length === 0 ? '<p class="sub">No package databases found (dpkg, apk, Python dist-info, node_modules).</p>' : `<table><thead><tr><th>kind</th><th>name</th><th>version</th><th class="num">size</th><th class="num">files</th><th>installed by</th></tr></thead><tbody>\n${pkgRows}\n</tbody></table>`}
<h2>Largest files</h2>
<table><thead><tr><th class="num">size</th><th>layer</th><th>path</th></tr></thead><tbody>
${fileRows}
</tbody></table>
</main>
<script type="application/json" id="layerwise-data">${scriptJson({ report: r, tree })}</script>
<script>${REPORT_JS}</script>
</body>
</html>
`;
}
