/** Human-readable output helpers shared by the CLI commands. */

export { formatBytes as humanBytes } from '../text/bytes.js';

export function shortDigest(d: string): string {
  return d.startsWith('sha256:') ? d.slice(7, 19) : d.slice(0, 12);
}

const useColor = (): boolean => !!process.stdout.isTTY && !process.env.NO_COLOR && process.env.TERM !== 'dumb';

export const color = {
  bold: (s: string) => (useColor() ? `\x1b[1m${s}\x1b[22m` : s),
  dim: (s: string) => (useColor() ? `\x1b[2m${s}\x1b[22m` : s),
  red: (s: string) => (useColor() ? `\x1b[31m${s}\x1b[39m` : s),
  green: (s: string) => (useColor() ? `\x1b[32m${s}\x1b[39m` : s),
  yellow: (s: string) => (useColor() ? `\x1b[33m${s}\x1b[39m` : s),
  cyan: (s: string) => (useColor() ? `\x1b[36m${s}\x1b[39m` : s),
};

/** A plain text table: columns padded to their widest cell; numbers right-aligned. */
export function table(rows: string[][], align: ('l' | 'r')[] = []): string {
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(c))));
  return rows
    .map((r) =>
      r
        .map((c, i) => {
          const pad = ' '.repeat((widths[i] ?? 0) - visible(c));
          if (i === r.length - 1 && align[i] !== 'r') return c;
          return align[i] === 'r' ? pad + c : c + pad;
        })
        .join('  '),
    )
    .join('\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
