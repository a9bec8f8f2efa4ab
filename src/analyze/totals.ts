import type { FsNode } from './overlay.js';

/** Bytes and regular-file count under each directory of the final filesystem. */
export interface Totals {
  bytes: Map<FsNode, number>;
  files: Map<FsNode, number>;
}

/** Sums file sizes bottom-up once, so every later question about a folder is a lookup. */
export function computeTotals(root: FsNode): Totals {
  const bytes = new Map<FsNode, number>();
  const files = new Map<FsNode, number>();
  const visit = (n: FsNode): [number, number] => {
    if (!n.children) {
      const isFile = n.entry?.kind === 'file';
      return [isFile ? n.entry!.size : 0, isFile ? 1 : 0];
    }
    let b = 0;
    let f = 0;
    for (const c of n.children.values()) {
      const [cb, cf] = visit(c);
      b += cb;
      f += cf;
    }
    bytes.set(n, b);
    files.set(n, f);
    return [b, f];
  };
  visit(root);
  return { bytes, files };
}

export function sizeOf(t: Totals, n: FsNode): number {
  return n.children ? t.bytes.get(n) ?? 0 : n.entry?.kind === 'file' ? n.entry.size : 0;
}
