/** The plan for a terminal: the tree, the reorders, the sizes and savings, what the images share. */
import type { FleetFigures, SizeSource } from '../fleet.js';
import type { PlanReport } from '../report.js';
import type { NodeSize } from '../savings.js';
import { humanBytes } from './bytes.js';
import { planTree, type TreeNode } from './tree.js';

export interface TtyOptions {
  bold?: (s: string) => string;
  dim?: (s: string) => string;
}

const MARK: Record<SizeSource, string> = { measured: '', computed: '', estimated: '~', unknown: '≥' };

export function sizeText(s: NodeSize | undefined): string {
  if (!s) return '';
  if (s.source === 'unknown' && s.size === 0) return 'size ?';
  return `${MARK[s.source]}${humanBytes(s.size)}`;
}

function drawTree(nodes: TreeNode[], bold: (s: string) => string, dim: (s: string) => string): string[] {
  const lines: string[] = [];
  const walk = (n: TreeNode, prefix: string, last: boolean, top: boolean) => {
    const size = sizeText(n.size);
    const who = n.kind === 'base' ? `  [${n.services.join(' ')}]` : '';
    const label = n.kind === 'stage' ? n.label : bold(n.label);
    const head = top ? '' : prefix + (last ? '└─ ' : '├─ ');
    lines.push(`${head}${label}  ${dim([n.kind === 'image' ? '' : n.detail, size].filter((x) => x).join(', '))}${dim(who)}`.replace(/\s+$/, ''));
    const next = top ? '' : prefix + (last ? '   ' : '│  ');
    n.children.forEach((c, i) => walk(c, next, i === n.children.length - 1, false));
  };
  for (const n of nodes) walk(n, '', true, true);
  return lines;
}

function figuresTable(before: FleetFigures, after: FleetFigures, period: string): string[] {
  const rows: [string, number, number][] = [
    ['fleet pull, from empty', before.coldPull, after.coldPull],
    [`fleet pull per ${period}`, before.periodPull, after.periodPull],
    ['registry storage', before.registry, after.registry],
    [`registry growth per ${period}`, before.registryPerPeriod, after.registryPerPeriod],
  ];
  const cells = [['', 'before', 'after', 'saved'], ...rows.map(([l, b, a]) => [l, humanBytes(b), humanBytes(a), `${humanBytes(b - a)}${b > 0 ? ` (${Math.round(((b - a) / b) * 100)}%)` : ''}`])];
  const w = [0, 1, 2, 3].map((i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => '  ' + r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('   '));
}

export function planTty(report: PlanReport, opts: TtyOptions = {}): string {
  const bold = opts.bold ?? ((s: string) => s);
  const dim = opts.dim ?? ((s: string) => s);
  const out: string[] = [];
  const plan = report.plan;
  if (plan) {
    const changed = plan.services.filter((s) => s.changed).length;
    out.push(bold(`Plan: ${plan.services.length} Dockerfile${plan.services.length === 1 ? '' : 's'}, ${plan.bases.length} base image${plan.bases.length === 1 ? '' : 's'}, ${changed} Dockerfile${changed === 1 ? '' : 's'} rewritten`));
    out.push('');
    out.push(...drawTree(planTree(plan, report.sizes), bold, dim));
    const applied = plan.reorders.filter((r) => r.applied);
    const kept = plan.reorders.filter((r) => !r.applied);
    if (applied.length || kept.length) {
      out.push('', bold('Reordered (least to most frequently changing)'));
      for (const r of applied) out.push(`  ${r.service}: ${r.reason}`);
      for (const r of kept) out.push(`  ${r.service}: not moved: ${r.reason}`);
    }
    const sizes = report.sizes;
    if (sizes && [...Object.values(sizes.bases), ...Object.values(sizes.stages), ...Object.values(sizes.images)].some((s: NodeSize) => s.source !== 'computed')) {
      out.push('', dim('Sizes: plain = measured from the images, ~ = estimated (fleet file or build context), ≥ = some parts unknown'));
    }
    // (With a fleet file the savings notes say it.)
    if (!report.savings) for (const m of report.measurements) if (m.problem) out.push(`  ${m.service}: ${m.image} not matched to its Dockerfile: ${m.problem}`);
  }
  const s = report.savings;
  if (s) {
    out.push('', bold(`Savings for the fleet (per ${s.period})`));
    out.push(...figuresTable(s.before, s.after, s.period));
    for (const n of s.notes) out.push(`  note: ${n}`);
  }
  if (report.current) {
    const c = report.current;
    out.push('', bold('Fleet figures for these images'));
    out.push(`  fleet pull, from empty      ${humanBytes(c.coldPull)}`, `  fleet pull per ${c.period}  ${humanBytes(c.periodPull)}`, `  registry storage            ${humanBytes(c.registry)}`, `  registry growth per ${c.period}  ${humanBytes(c.registryPerPeriod)}`);
  }
  const sh = report.sharing;
  if (sh) {
    const t = sh.totals;
    out.push('', bold(`Images: ${t.images}, ${t.layers} layers, ${t.distinctLayers} distinct`));
    out.push(`  layers as listed ${humanBytes(t.layerBytes)}; distinct layers ${humanBytes(t.distinctLayerBytes)} (shared layers save ${humanBytes(t.layerBytes - t.distinctLayerBytes)})`);
    for (const l of sh.sharedLayers.slice(0, 10)) {
      out.push(`  shared ${l.diffId.slice(7, 19)}  ${humanBytes(l.size)}  ${l.uses.map((u) => `${u.image}#${u.index}`).join(', ')}${l.sameChain ? '' : dim('  (different parents: a host stores it twice)')}`);
    }
    out.push(`  identical content in different layers: ${t.duplicateGroups} file${t.duplicateGroups === 1 ? '' : 's'}, ${humanBytes(t.duplicateBytes)} downloaded more than once`);
    for (const d of sh.duplicates.slice(0, 10)) {
      out.push(`    ${humanBytes(d.size)} x${d.layers}  ${d.copies.map((c) => `${c.image}#${c.layer}:${c.path}`).join('  ')}`);
    }
    for (const p of sh.pairs) if (p.sharedContentBytes > 0) out.push(`  ${p.a} and ${p.b}: ${humanBytes(p.sharedLayerBytes)} in shared layers, ${humanBytes(p.sharedContentBytes)} of identical content`);
  }
  return out.join('\n') + '\n';
}
