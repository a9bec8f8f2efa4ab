import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { unifiedDiff } from './diff.js';

/** Applies a unified diff produced by unifiedDiff back onto the old text. */
function patch(before: string, diff: string): string {
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let i = 0;
  const lines = diff.split('\n').slice(2);
  for (let k = 0; k < lines.length; k++) {
    const m = /^@@ -(\d+),(\d+) \+\d+,\d+ @@$/.exec(lines[k]!);
    if (!m) continue;
    const start = Number(m[2]) === 0 ? Number(m[1]) : Number(m[1]) - 1;
    while (i < start) out.push(a[i++]!);
    for (k++; k < lines.length && !lines[k]!.startsWith('@@'); k++) {
      const l = lines[k]!;
      if (l.startsWith(' ')) out.push(a[i++]!);
      else if (l.startsWith('-')) i++;
      else if (l.startsWith('+')) out.push(l.slice(1));
    }
    k--;
  }
  while (i < a.length) out.push(a[i++]!);
  return out.length ? out.join('\n') + '\n' : '';
}

describe('unifiedDiff', () => {
  it('shows a change with context, removals before additions', () => {
    const d = unifiedDiff('a\nb\nc\nd\ne\nf\ng\nh\n', 'a\nb\nc\nd\nE\nf\ng\nh\n', 'a/x', 'b/x');
    expect(d).toBe('--- a/x\n+++ b/x\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n');
  });

  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\n', 'a\n', 'x', 'y')).toBe('');
  });

  it('round-trips: applying the diff to the old text gives the new one', () => {
    const text = fc.array(fc.constantFrom('RUN a', 'RUN b', 'COPY . .', 'FROM x', ''), { maxLength: 30 }).map((l) => (l.length ? l.join('\n') + '\n' : ''));
    fc.assert(
      fc.property(text, text, (a, b) => {
        const d = unifiedDiff(a, b, 'a', 'b');
        if (a === b) expect(d).toBe('');
        else expect(patch(a, d)).toBe(b);
      }),
      { numRuns: 300 },
    );
  });
});
