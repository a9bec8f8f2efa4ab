import type { Command } from 'commander';
import { diffImages, type DiffReport } from '../../analyze/diff.js';
import { openImage } from '../../transports/index.js';
import { color, humanBytes, printJson, shortDigest, table } from '../format.js';
import { imageOptions, openOptions, progressFor, type CommonFlags } from '../options.js';
import { LayerwiseError } from '../../errors.js';

export function register(program: Command): void {
  imageOptions(
    program
      .command('diff')
      .description('compare two images: files added, removed and changed, and the size change of each layer')
      .argument('<a>', 'TRANSPORT:REF of the old image')
      .argument('<b>', 'TRANSPORT:REF of the new image')
      .option('--json', 'machine-readable output')
      .option('--limit <n>', 'list at most this many paths per kind (counts stay exact)', '1000')
      .option('-q, --quiet', 'no progress on stderr'),
  ).action(async (refA: string, refB: string, flags: CommonFlags & { limit?: string }) => {
    const limit = Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 0) throw new LayerwiseError('USAGE', `--limit ${flags.limit}: expected a whole number`);
    const progress = progressFor(flags);
    const a = await openImage(refA, openOptions(flags, progress));
    try {
      const b = await openImage(refB, openOptions(flags, progress));
      try {
        const d = await diffImages(a, b, { limit, progress });
        if (flags.json) printJson(d);
        else process.stdout.write(renderDiff(d));
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
    }
  });
}

const signed = (n: number) => (n > 0 ? color.red('+' + humanBytes(n)) : n < 0 ? color.green(humanBytes(n)) : '0 B');

export function renderDiff(d: DiffReport): string {
  const s = d.summary;
  const out: string[] = [];
  out.push(`${color.bold('A')} ${d.a}`);
  out.push(`${color.bold('B')} ${d.b}`);
  out.push(`compressed ${humanBytes(s.compressedBytesA)} -> ${humanBytes(s.compressedBytesB)} (${signed(s.compressedBytesB - s.compressedBytesA)}), files ${humanBytes(s.finalBytesA)} -> ${humanBytes(s.finalBytesB)} (${signed(s.finalBytesB - s.finalBytesA)})`);
  out.push('');
  const rows = [['#', 'A', 'B', 'CHANGE', 'STEP (B)'].map((h) => color.dim(h))];
  for (const l of d.layers) {
    rows.push([
      String(l.index),
      l.a ? `${humanBytes(l.a.compressedBytes)} ${color.dim(shortDigest(l.a.diffId))}` : '-',
      l.b ? `${humanBytes(l.b.compressedBytes)} ${color.dim(shortDigest(l.b.diffId))}` : '-',
      l.shared ? color.dim('shared') : signed(l.compressedDelta),
      (l.b ?? l.a)!.step.slice(0, 70),
    ]);
  }
  out.push(table(rows, ['r', 'r', 'r', 'r', 'l']));
  out.push('');
  out.push(`${color.green(`added ${s.added.files}`)} (${humanBytes(s.added.bytes)}), ${color.red(`removed ${s.removed.files}`)} (${humanBytes(s.removed.bytes)}), ${color.yellow(`changed ${s.changed.files}`)} (${humanBytes(s.changed.bytesBefore)} -> ${humanBytes(s.changed.bytesAfter)})`);
  for (const f of d.added) out.push(`${color.green('+')} ${f.path}  ${humanBytes(f.size)}`);
  for (const f of d.removed) out.push(`${color.red('-')} ${f.path}  ${humanBytes(f.size)}`);
  for (const c of d.changed) out.push(`${color.yellow('~')} ${c.path}  ${c.what.join(',')}  ${humanBytes(c.a.size)} -> ${humanBytes(c.b.size)}`);
  if (s.truncated) out.push(color.dim('(lists cut at --limit; counts above are complete)'));
  return out.join('\n') + '\n';
}
