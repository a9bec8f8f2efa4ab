import type { Image } from '../model/image.js';
import { isDirNode, lookup, mergeLayers } from '../analyze/overlay.js';
import { scanLayer } from '../analyze/scan.js';
import type { Item } from '../tar/from-directory.js';

/**
 * For `build --replace`: whiteouts that make each destination folder hold exactly what its source holds.
 * Every path the base's final filesystem has under a destination and the new layer does not get a
 * `.wh.NAME` entry; a missing folder gets one whiteout for the whole folder.
 */
export async function whiteoutsForReplace(base: Image, dests: string[], newPaths: ReadonlySet<string>, mtime: number): Promise<Item[]> {
  const scans = [];
  for (let i = 0; i < base.layers.length; i++) scans.push(await scanLayer(base.layers[i]!, i));
  const { root } = mergeLayers(scans);
  const out: Item[] = [];
  const visit = (node: ReturnType<typeof lookup>, path: string) => {
    if (!node?.children) return;
    for (const [name, child] of node.children) {
      const p = path === '' ? name : `${path}/${name}`;
      if (!newPaths.has(p)) {
        const dir = path === '' ? '' : `${path}/`;
        out.push({ name: `${dir}.wh.${name}`, abs: undefined, header: { path: `${dir}.wh.${name}`, type: 'file', size: 0, mode: 0o644, mtime } });
        continue; // the whiteout covers everything below
      }
      if (isDirNode(child)) visit(child, p);
    }
  };
  for (const d of dests) {
    const rel = d.replace(/^\/+/, '');
    const node = lookup(root, rel);
    if (node && isDirNode(node)) visit(node, rel);
  }
  return out;
}
