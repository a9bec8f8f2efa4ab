/**
 * `--html`: one self-contained page (no script, no external resource): the tree as an SVG graph with
 * each node's size, the savings table, the reorders, every generated Dockerfile, and what the images
 * share. The graph runs left to right: FROM images, then bases, then the stages built on them.
 */
import type { FleetFigures } from '../fleet.js';
import type { PlanReport } from '../report.js';
import { humanBytes } from './bytes.js';
import { planTree, type TreeNode } from './tree.js';
import { sizeText } from './tty.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const NODE_W = 260;
const NODE_H = 54;
const COL = 320;
const ROW = 68;
const PAD = 16;

interface Placed {
  node: TreeNode;
  x: number;
  y: number;
  parent: Placed | undefined;
}

/** Leaves take one row each, in order; a parent sits level with the middle of its children. */
function layout(roots: TreeNode[]): { placed: Placed[]; width: number; height: number } {
  const placed: Placed[] = [];
  let row = 0;
  let depthMax = 0;
  const place = (n: TreeNode, depth: number, parent: Placed | undefined): Placed => {
    depthMax = Math.max(depthMax, depth);
    const p: Placed = { node: n, x: PAD + depth * COL, y: 0, parent };
    placed.push(p);
    if (!n.children.length) p.y = PAD + row++ * ROW;
    else {
      const kids = n.children.map((c) => place(c, depth + 1, p));
      p.y = (kids[0]!.y + kids[kids.length - 1]!.y) / 2;
    }
    return p;
  };
  for (const r of roots) place(r, 0, undefined);
  return { placed, width: PAD * 2 + depthMax * COL + NODE_W, height: PAD * 2 + Math.max(row, 1) * ROW - (ROW - NODE_H) };
}

const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

export function treeSvg(roots: TreeNode[]): string {
  const { placed, width, height } = layout(roots);
  const edges = placed
    .filter((p) => p.parent)
    .map((p) => {
      const a = p.parent!;
      const x1 = a.x + NODE_W;
      const y1 = a.y + NODE_H / 2;
      const x2 = p.x;
      const y2 = p.y + NODE_H / 2;
      const mx = (x1 + x2) / 2;
      return `<path class="edge" d="M${x1} ${y1} C${mx} ${y1} ${mx} ${y2} ${x2} ${y2}"/>`;
    });
  const nodes = placed.map(({ node: n, x, y }) => {
    const size = sizeText(n.size);
    const line2 = [n.kind === 'image' ? 'FROM image' : n.detail, size].filter((v) => v).join(' · ');
    const tip = `${n.label}\n${line2}${n.services.length ? '\nservices: ' + n.services.join(', ') : ''}`;
    return (
      `<g class="node ${n.kind}" data-id="${esc(n.id)}" data-size="${n.size?.size ?? ''}" data-size-source="${n.size?.source ?? ''}" transform="translate(${x} ${y})">` +
      `<title>${esc(tip)}</title><rect width="${NODE_W}" height="${NODE_H}" rx="8"/>` +
      `<text class="label" x="12" y="22">${esc(clip(n.label, 34))}</text>` +
      `<text class="detail" x="12" y="41">${esc(clip(line2, 42))}</text></g>`
    );
  });
  return `<svg id="tree" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="plan tree">${edges.join('')}${nodes.join('')}</svg>`;
}

function figures(before: FleetFigures, after: FleetFigures, period: string): string {
  const row = (label: string, b: number, a: number) =>
    `<tr><th>${esc(label)}</th><td>${humanBytes(b)}</td><td>${humanBytes(a)}</td><td class="saved">${humanBytes(b - a)}${b > 0 ? ` (${Math.round(((b - a) / b) * 100)}%)` : ''}</td></tr>`;
  return (
    `<table id="savings"><thead><tr><th></th><th>before</th><th>after</th><th>saved</th></tr></thead><tbody>` +
    row('fleet pull, from empty', before.coldPull, after.coldPull) +
    row(`fleet pull per ${period}`, before.periodPull, after.periodPull) +
    row('registry storage', before.registry, after.registry) +
    row(`registry growth per ${period}`, before.registryPerPeriod, after.registryPerPeriod) +
    `</tbody></table>`
  );
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1d2330;background:#fafbfc}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.sub{color:#5b6475}
#tree-box{overflow:auto;border:1px solid #dde1e8;background:#fff;border-radius:8px;padding:4px}
.edge{fill:none;stroke:#9aa4b5;stroke-width:1.5}
.node rect{stroke-width:1.5}
.node.image rect{fill:#eef0f4;stroke:#8a93a5}
.node.base rect{fill:#e4efff;stroke:#3d7be0}
.node.stage rect{fill:#e7f6ea;stroke:#3a9a52}
.node .label{font-weight:600;font-size:13px;fill:#1d2330}
.node .detail{font-size:11.5px;fill:#4a5366}
table{border-collapse:collapse;background:#fff}th,td{border:1px solid #dde1e8;padding:4px 10px;text-align:right}th:first-child{text-align:left}
td.saved{font-weight:600}
pre{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:10px;overflow:auto;font-size:12.5px}
details{margin:6px 0}summary{cursor:pointer}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:4px;vertical-align:-1px}
ul{padding-left:20px}
`;

export function planHtml(report: PlanReport): string {
  const parts: string[] = [];
  const plan = report.plan;
  const title = plan ? `layerwise plan: ${plan.bases.length} base image${plan.bases.length === 1 ? '' : 's'} for ${plan.services.length} Dockerfiles` : 'layerwise plan: image sharing';
  parts.push(`<h1>${esc(title)}</h1>`);
  if (plan) {
    parts.push(`<p class="sub">Sizes are what each node adds over its parent: plain = measured from the built images, ~ = estimated (fleet file or build context), ≥ = some parts unknown.</p>`);
    parts.push(`<p class="legend"><span><i style="background:#eef0f4;border:1px solid #8a93a5"></i>FROM image</span><span><i style="background:#e4efff;border:1px solid #3d7be0"></i>base image</span><span><i style="background:#e7f6ea;border:1px solid #3a9a52"></i>service stage</span></p>`);
    parts.push(`<div id="tree-box">${treeSvg(planTree(plan, report.sizes))}</div>`);
  }
  const s = report.savings;
  if (s) {
    parts.push(`<h2>Savings for the fleet (per ${esc(s.period)})</h2>`, figures(s.before, s.after, s.period));
    if (s.notes.length) parts.push(`<ul class="notes">${s.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
    parts.push(
      `<details><summary>Layers counted</summary>${s.images
        .map((i) => `<p><b>${esc(i.side)}: ${esc(i.name)}</b></p><table><tr><th>layer</th><th>size</th><th>versions per ${esc(s.period)}</th></tr>${i.layers.map((l) => `<tr><th>${esc(l.label)}</th><td>${l.sizeSource === 'estimated' ? '~' : l.sizeSource === 'unknown' ? '?' : ''}${humanBytes(l.size)}</td><td>${l.versions}</td></tr>`).join('')}</table>`)
        .join('')}</details>`,
    );
  }
  if (report.current) {
    const c = report.current;
    parts.push(`<h2>Fleet figures for these images</h2><table><tr><th>fleet pull, from empty</th><td>${humanBytes(c.coldPull)}</td></tr><tr><th>fleet pull per ${esc(c.period)}</th><td>${humanBytes(c.periodPull)}</td></tr><tr><th>registry storage</th><td>${humanBytes(c.registry)}</td></tr></table>`);
  }
  if (plan) {
    if (plan.reorders.length) {
      parts.push(`<h2>Reordered</h2><ul id="reorders">${plan.reorders.map((r) => `<li>${esc(r.service)}: ${r.applied ? '' : 'not moved: '}${esc(r.reason)}</li>`).join('')}</ul>`);
    }
    parts.push(`<h2>Base images</h2>`);
    for (const b of plan.bases) parts.push(`<details class="base-dockerfile"><summary>${esc(b.name)} — ${esc(b.services.join(', '))}</summary><pre>${esc(b.dockerfile)}</pre></details>`);
    parts.push(`<h2>Service Dockerfiles</h2>`);
    for (const sv of plan.services) parts.push(`<details class="service-dockerfile"><summary>${esc(sv.name)}${sv.changed ? '' : ' (unchanged)'} — ${esc(sv.path)}</summary><pre>${esc(sv.dockerfile)}</pre></details>`);
  }
  const sh = report.sharing;
  if (sh) {
    const t = sh.totals;
    parts.push(`<h2>What the images share</h2><p>${t.images} images, ${t.layers} layers (${t.distinctLayers} distinct): ${humanBytes(t.layerBytes)} as listed, ${humanBytes(t.distinctLayerBytes)} distinct. Identical content in different layers: ${t.duplicateGroups} files, <b>${humanBytes(t.duplicateBytes)}</b> downloaded more than once.</p>`);
    if (sh.sharedLayers.length) parts.push(`<table id="shared-layers"><tr><th>diffID</th><th>size</th><th>used by</th></tr>${sh.sharedLayers.map((l) => `<tr><th><code>${esc(l.diffId.slice(0, 19))}</code></th><td>${humanBytes(l.size)}</td><td>${esc(l.uses.map((u) => `${u.image}#${u.index}`).join(', '))}</td></tr>`).join('')}</table>`);
    if (sh.duplicates.length) parts.push(`<table id="duplicates"><tr><th>content</th><th>size</th><th>copies</th></tr>${sh.duplicates.map((d) => `<tr><th><code>${esc(d.digest.slice(0, 19))}</code></th><td>${humanBytes(d.size)} ×${d.layers}</td><td>${esc(d.copies.map((c) => `${c.image}#${c.layer}:${c.path}`).join(', '))}</td></tr>`).join('')}</table>`);
  }
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${CSS}</style></head><body>${parts.join('\n')}</body></html>\n`;
}
