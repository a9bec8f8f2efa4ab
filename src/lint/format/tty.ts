/** Terminal output: each finding with its source line and a caret under the spot, then a summary. */
import { formatBytes } from '../bytes.js';
import type { LintResult } from '../engine.js';
import { ruleById } from '../rules/index.js';
import type { Finding, Severity } from '../types.js';

export interface TtyOptions {
  color: boolean;
  /** Also print each rule's "why". */
  verbose?: boolean;
}

const paint = (on: boolean, code: number, off: number) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[${off}m` : s);

function caretLine(f: Finding): string {
  const snippet = f.snippet ?? '';
  const col = Math.max(1, f.column ?? 1);
  const endCol = f.endLine !== undefined && f.endLine === f.line && f.endColumn !== undefined ? f.endColumn : snippet.length + 1;
  const width = Math.max(1, Math.min(endCol, snippet.length + 1) - col);
  // Keep tabs so the caret lines up under tab-indented source.
  const pad = snippet.slice(0, col - 1).replace(/[^\t]/g, ' ');
  return pad + '^'.repeat(width);
}

export function formatTty(results: readonly LintResult[], options: TtyOptions): string {
  const c = {
    bold: paint(options.color, 1, 22),
    dim: paint(options.color, 2, 22),
    red: paint(options.color, 31, 39),
    yellow: paint(options.color, 33, 39),
    cyan: paint(options.color, 36, 39),
    green: paint(options.color, 32, 39),
  };
  const sev: Record<Severity, (s: string) => string> = { error: c.red, warning: c.yellow, info: c.cyan };
  let out = '';
  const totals = { error: 0, warning: 0, info: 0, fixable: 0, suppressed: 0 };
  for (const r of results) {
    for (const f of r.findings) {
      totals[f.severity]++;
      if (f.fixable) totals.fixable++;
      const where = f.line !== undefined ? `${f.file}:${f.line}:${f.column ?? 1}` : f.file;
      out += `${c.bold(where)}: ${sev[f.severity](f.severity)} ${c.bold(f.ruleId)} ${f.message}${f.fixable ? c.dim(' [fixable]') : ''}\n`;
      if (f.line !== undefined && f.snippet !== undefined) {
        const num = String(f.line);
        const gutter = ' '.repeat(num.length);
        out += `  ${c.dim(num + ' |')} ${f.snippet}\n`;
        out += `  ${c.dim(gutter + ' |')} ${sev[f.severity](caretLine(f))}\n`;
      }
      const rule = ruleById(f.ruleId);
      if (rule) {
        if (options.verbose) out += `  ${c.dim('why:')} ${rule.meta.why}\n`;
        out += `  ${c.dim('fix:')} ${rule.meta.fix}\n`;
      }
      out += '\n';
    }
    totals.suppressed += r.suppressed;
    if (r.context) {
      const ctx = r.context;
      const largest = ctx.largest.filter((l) => l.size > 0).map((l) => `${l.path} ${formatBytes(l.size)}`).join(', ');
      out += `${c.dim('context')} ${r.file}: ${formatBytes(ctx.totalSize)} in ${ctx.totalFiles} file(s) sent`;
      out += ctx.ignoreFile ? ` (${ctx.ignoreFile} excludes ${formatBytes(ctx.excludedSize)} in ${ctx.excludedFiles} file(s))` : ' (no .dockerignore)';
      out += largest ? `; largest: ${largest}\n` : '\n';
    }
  }
  const parts = [`${totals.error} error(s)`, `${totals.warning} warning(s)`, `${totals.info} info`];
  const extra = [totals.fixable ? `${totals.fixable} fixable with --fix` : '', totals.suppressed ? `${totals.suppressed} suppressed` : ''].filter(Boolean);
  const clean = totals.error + totals.warning + totals.info === 0;
  out += `${clean ? c.green('no findings') : parts.join(', ')} in ${results.length} Dockerfile(s)${extra.length ? ` (${extra.join(', ')})` : ''}\n`;
  return out;
}
