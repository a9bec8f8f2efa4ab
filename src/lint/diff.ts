/** A unified diff of two texts (line based, 3 lines of context), for showing what --fix changed. */

function lcsTable(a: string[], b: string[]): Uint32Array[] {
  const t: Uint32Array[] = [];
  for (let i = 0; i <= a.length; i++) t.push(new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      t[i]![j] = a[i] === b[j] ? t[i + 1]![j + 1]! + 1 : Math.max(t[i + 1]![j]!, t[i]![j + 1]!);
    }
  }
  return t;
}

type Op = { kind: ' ' | '-' | '+'; text: string; a: number; b: number };

function ops(a: string[], b: string[]): Op[] {
  // Trim the common head and tail so the table stays small for typical single-spot edits.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const am = a.slice(head, a.length - tail);
  const bm = b.slice(head, b.length - tail);
  const out: Op[] = [];
  for (let k = 0; k < head; k++) out.push({ kind: ' ', text: a[k]!, a: k, b: k });
  if (am.length * bm.length > 4_000_000) {
    am.forEach((t, k) => out.push({ kind: '-', text: t, a: head + k, b: head }));
    bm.forEach((t, k) => out.push({ kind: '+', text: t, a: head + am.length, b: head + k }));
  } else {
    const t = lcsTable(am, bm);
    let i = 0;
    let j = 0;
    while (i < am.length || j < bm.length) {
      if (i < am.length && j < bm.length && am[i] === bm[j]) {
        out.push({ kind: ' ', text: am[i]!, a: head + i, b: head + j });
        i++;
        j++;
      } else if (i < am.length && (j >= bm.length || t[i + 1]![j]! >= t[i]![j + 1]!)) {
        out.push({ kind: '-', text: am[i]!, a: head + i, b: head + j });
        i++;
      } else {
        out.push({ kind: '+', text: bm[j]!, a: head + i, b: head + j });
        j++;
      }
    }
  }
  for (let k = 0; k < tail; k++) out.push({ kind: ' ', text: a[a.length - tail + k]!, a: a.length - tail + k, b: b.length - tail + k });
  return out;
}

function splitLines(s: string): string[] {
  if (s === '') return [];
  const lines = s.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** `diff -u` style output; '' when the texts are equal. */
export function unifiedDiff(before: string, after: string, fromName: string, toName: string, context = 3): string {
  if (before === after) return '';
  const all = ops(splitLines(before), splitLines(after));
  const changed = all.map((o, k) => (o.kind !== ' ' ? k : -1)).filter((k) => k >= 0);
  const hunks: [number, number][] = [];
  for (const k of changed) {
    const from = Math.max(0, k - context);
    const to = Math.min(all.length - 1, k + context);
    const last = hunks[hunks.length - 1];
    if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else hunks.push([from, to]);
  }
  let out = `--- ${fromName}\n+++ ${toName}\n`;
  for (const [from, to] of hunks) {
    const slice = all.slice(from, to + 1);
    const aLines = slice.filter((o) => o.kind !== '+').length;
    const bLines = slice.filter((o) => o.kind !== '-').length;
    const aStart = slice[0]!.a + (aLines ? 1 : 0);
    const bStart = slice[0]!.b + (bLines ? 1 : 0);
    out += `@@ -${aStart},${aLines} +${bStart},${bLines} @@\n`;
    for (const o of slice) out += `${o.kind}${o.text}\n`;
  }
  return out;
}
