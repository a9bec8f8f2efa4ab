import type { Command } from 'commander';
import { readFile, writeFile } from 'node:fs/promises';
import { analyzeImage } from '../../analyze/analyze.js';
import { evaluateGate, loadGateConfig, parseByteSize, type GateConfig, type GateResult } from '../../analyze/gate.js';
import type { AnalyzeReport } from '../../analyze/report.js';
import { LayerwiseError } from '../../errors.js';
import { renderAnalyzeHtml } from '../../report/html/analyze-html.js';
import { writeAtomically } from '../../stream/atomic.js';
import { openImage } from '../../transports/index.js';
import { color, humanBytes, printJson, table } from '../format.js';
import { imageOptions, openOptions, progressFor, type CommonFlags } from '../options.js';
import { EXIT } from '../run.js';

interface AnalyzeFlags extends CommonFlags {
  html?: string;
  dockerfile?: string;
  ci?: boolean;
  config?: string;
  lowestEfficiency?: string;
  highestWastedBytes?: string;
  highestWastedPercent?: string;
  ignore?: string[];
  top?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

function numberFlag(v: string | undefined, name: string, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v.replace(/%$/, ''));
  if (!Number.isFinite(n) || n < 0 || n > max) throw new LayerwiseError('USAGE', `--${name} ${v}: expected a number from 0 to ${max}`);
  return n;
}

export function register(program: Command): void {
  imageOptions(
    program
      .command('analyze')
      .description('per-layer sizes and changes, wasted bytes, duplicates, junk, packages by size, each with the step that caused it and a fix')
      .argument('<image>', 'TRANSPORT:REF, e.g. docker-archive:app.tar, oci:dir:tag, docker-daemon:app:1, docker://host/repo:tag')
      .option('--json', 'machine-readable report (schema: docs/analyze-schema.json)')
      .option('--html <file>', 'also write a self-contained HTML report (chart, treemap, findings)')
      .option('--dockerfile <path>', 'attribute findings to lines of this Dockerfile')
      .option('--ci', 'check thresholds (from .layerwise.yml analyze: and the flags below); exit 1 when one is crossed')
      .option('--config <path>', 'config file (default: .layerwise.yml in the current folder, when present)')
      .option('--lowest-efficiency <0..1>', 'CI: fail below this efficiency score')
      .option('--highest-wasted-bytes <size>', 'CI: fail above this many wasted bytes (e.g. 20MB)')
      .option('--highest-wasted-percent <0..100>', 'CI: fail above this percentage of stored bytes wasted')
      .option('--ignore <glob>', 'leave paths out of waste, junk and duplicate figures (repeatable)', collect)
      .option('--top <n>', 'how many largest files, folders and packages to list', '20')
      .option('-q, --quiet', 'no progress on stderr'),
  ).action(async (ref: string, flags: AnalyzeFlags) => {
    const top = Number(flags.top);
    if (!Number.isInteger(top) || top < 1) throw new LayerwiseError('USAGE', `--top ${flags.top}: expected a positive whole number`);
    const fileCfg = (await loadGateConfig(flags.config ?? '.layerwise.yml', flags.config !== undefined)) ?? { ignore: [] };
    const gate: GateConfig = {
      ...fileCfg,
      ignore: [...fileCfg.ignore, ...(flags.ignore ?? [])],
    };
    const eff = numberFlag(flags.lowestEfficiency, 'lowest-efficiency', 1);
    if (eff !== undefined) gate.lowestEfficiency = eff;
    if (flags.highestWastedBytes !== undefined) gate.highestWastedBytes = parseByteSize(flags.highestWastedBytes, '--highest-wasted-bytes');
    const pct = numberFlag(flags.highestWastedPercent, 'highest-wasted-percent', 100);
    if (pct !== undefined) gate.highestWastedPercent = pct;
    if (flags.ci && gate.lowestEfficiency === undefined && gate.highestWastedBytes === undefined && gate.highestWastedPercent === undefined) {
      throw new LayerwiseError('USAGE', '--ci needs at least one threshold: set analyze.lowestEfficiency, highestWastedBytes or highestWastedPercent in .layerwise.yml, or pass --lowest-efficiency / --highest-wasted-bytes / --highest-wasted-percent');
    }
    let dockerfile: { path: string; text: string } | undefined;
    if (flags.dockerfile) {
      try {
        dockerfile = { path: flags.dockerfile, text: await readFile(flags.dockerfile, 'utf8') };
      } catch (err) {
        throw new LayerwiseError('IO', `${flags.dockerfile}: ${(err as Error).message}`, { subject: flags.dockerfile, cause: err });
      }
    }
    const progress = progressFor(flags);
    const image = await openImage(ref, openOptions(flags, progress));
    let result: GateResult | undefined;
    try {
      const analysis = await analyzeImage(image, { ...(dockerfile ? { dockerfile } : {}), ignore: gate.ignore, top, progress });
      const report = analysis.report;
      if (flags.html) {
        const html = renderAnalyzeHtml(analysis);
        await writeAtomically(flags.html, (tmp) => writeFile(tmp, html), { overwrite: true });
      }
      if (flags.ci) result = evaluateGate(report, gate);
      if (flags.json) printJson(result ? { ...report, ci: result } : report);
      else process.stdout.write(renderText(report, top, result, flags.html));
    } finally {
      await image.close();
    }
    if (result && !result.pass) {
      for (const f of result.failures) process.stderr.write(`layerwise: CI threshold crossed: ${f}\n`);
      process.exitCode = EXIT.failure;
    }
  });
}

function short(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

export function renderText(r: AnalyzeReport, top: number, ci: GateResult | undefined, html: string | undefined): string {
  const t = r.totals;
  const out: string[] = [];
  out.push(`${color.bold('Image')}       ${r.reference}`);
  out.push(`${color.bold('Size')}        ${humanBytes(t.compressedBytes)} compressed, ${humanBytes(t.tarBytes)} in ${t.layers} layers, ${humanBytes(t.finalBytes)} in ${t.finalFiles} files of the final filesystem`);
  const wasted = `${humanBytes(t.wastedBytes)} (${t.wastedPercent.toFixed(2)}% of ${humanBytes(t.storedBytes)} stored)`;
  out.push(`${color.bold('Wasted')}      ${t.wastedBytes > 0 ? color.red(wasted) : color.green(wasted)}   ${color.bold('efficiency')} ${t.efficiency.toFixed(4)}`);
  out.push(`${color.bold('Savings')}     ${humanBytes(t.potentialSavings)} possible (duplicates ${humanBytes(t.duplicateBytes)}, junk ${humanBytes(t.junkBytes)})`);
  if (r.ignored.length) out.push(`${color.bold('Ignored')}     ${r.ignored.join(' ')}`);
  out.push('');
  const rows = [['#', 'SIZE', 'ADDED', 'MODIFIED', 'REMOVED', 'WASTED', 'STEP'].map((h) => color.dim(h))];
  for (const l of r.layers) {
    rows.push([
      String(l.layer),
      humanBytes(l.tarBytes),
      `${l.added.files} ${humanBytes(l.added.bytes)}`,
      `${l.modified.files} ${humanBytes(l.modified.bytes)}`,
      `${l.removed.files} ${humanBytes(l.removed.bytes)}`,
      l.wastedBytes > 0 ? color.red(humanBytes(l.wastedBytes)) : humanBytes(0),
      short(l.step, 70) + (l.line !== undefined ? color.dim(` (line ${l.line})`) : ''),
    ]);
  }
  out.push(table(rows, ['r', 'r', 'r', 'r', 'r', 'r', 'l']));
  out.push('');
  out.push(color.bold(`Findings (${r.findings.length}), largest savings first`));
  if (r.findings.length === 0) out.push('  none');
  r.findings.slice(0, Math.max(top, 10)).forEach((f, i) => {
    const tag = f.kind === 'waste' ? color.red(f.kind) : f.kind === 'junk' ? color.yellow(f.kind) : color.cyan(f.kind);
    out.push(`${String(i + 1).padStart(3)}. [${tag}] ${f.title}`);
    out.push(`     ${color.green('fix:')} ${f.fix} ${color.dim(`(saves ${humanBytes(f.savings)})`)}`);
  });
  if (r.findings.length > Math.max(top, 10)) out.push(color.dim(`  ... ${r.findings.length - Math.max(top, 10)} more (--json or --html for all)`));
  if (r.packages.length) {
    out.push('');
    out.push(color.bold(`Packages by size (${Math.min(top, r.packages.length)} of ${r.packages.length})`));
    const prow = [['SIZE', 'KIND', 'PACKAGE', 'LAYER'].map((h) => color.dim(h))];
    for (const p of r.packages.slice(0, top)) prow.push([humanBytes(p.bytes), p.ecosystem, `${p.name} ${color.dim(p.version)}`, `${p.layer} ${short(p.step, 50)}`]);
    out.push(table(prow, ['r', 'l', 'l', 'l']));
  }
  out.push('');
  out.push(color.bold('Largest files'));
  out.push(table(r.largestFiles.slice(0, Math.min(top, 10)).map((f) => [humanBytes(f.bytes), `layer ${f.layer}`, f.path]), ['r', 'l', 'l']));
  out.push('');
  out.push(color.bold('Largest folders'));
  out.push(table(r.largestDirs.slice(0, Math.min(top, 10)).map((d) => [humanBytes(d.bytes), d.path]), ['r', 'l']));
  if (html) out.push('', `HTML report: ${html}`);
  if (ci) {
    out.push('');
    if (ci.pass) out.push(`${color.green('CI: PASS')} (${ci.checked.join('; ')})`);
    else for (const f of ci.failures) out.push(`${color.red('CI: FAIL')} ${f}`);
  }
  return out.join('\n') + '\n';
}
