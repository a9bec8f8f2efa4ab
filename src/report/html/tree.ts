import type { FsNode } from '../../analyze/overlay.js';
import type { Totals } from '../../analyze/totals.js';

/**
 * The final filesystem as the treemap draws it: [name, bytes, layer] for a file,
 * [name, bytes, layer, children] for a folder (layer: the layer that last wrote it).
 * Files too small to see are merged, per folder and layer, into one "(N small files)" leaf, so a
 * report for an image with a million files stays a few MB.
 */
export type TreeLeaf = [string, number, number];
export type TreeDir = [string, number, number, TreeItem[]];
export type TreeItem = TreeLeaf | TreeDir;

export function buildTree(root: FsNode, totals: Totals, opts: { maxNodes?: number } = {}): TreeDir {
  const total = totals.bytes.get(root) ?? 0;
  const maxNodes = opts.maxNodes ?? 30_000;
  // A leaf smaller than this share of the image cannot be told apart on screen.
  const minBytes = Math.max(1, Math.floor(total / maxNodes));
  const visit = (n: FsNode, name: string): TreeItem | undefined => {
    if (!n.children) {
      const size = n.entry?.kind === 'file' ? n.entry.size : 0;
      return size > 0 ? [name, size, n.layer] : undefined;
    }
    const bytes = totals.bytes.get(n) ?? 0;
    if (bytes === 0) return undefined;
    const items: TreeItem[] = [];
    const small = new Map<number, [number, number]>();
    for (const [childName, c] of n.children) {
      const size = c.children ? totals.bytes.get(c) ?? 0 : c.entry?.kind === 'file' ? c.entry.size : 0;
      if (size === 0) continue;
      if (size < minBytes) {
        // Folders too small to see are merged whole, attributed to the layer that wrote them.
        const s = small.get(c.layer) ?? [0, 0];
        s[0] += size;
        s[1] += c.children ? totals.files.get(c) ?? 0 : 1;
        small.set(c.layer, s);
        continue;
      }
      const item = visit(c, childName);
      if (item) items.push(item);
    }
    for (const [layer, [size, count]] of small) items.push([`(${count} small file${count === 1 ? '' : 's'})`, size, layer]);
    items.sort((a, b) => b[1] - a[1]);
    return [name, bytes, n.layer, items];
  };
  return (visit(root, '/') as TreeDir | undefined) ?? ['/', 0, 0, []];
}
