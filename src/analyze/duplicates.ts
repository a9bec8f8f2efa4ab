import type { DuplicateGroup } from './report.js';
import { lookup, type FsNode } from './overlay.js';
import type { LayerScan, ScannedEntry } from './scan.js';

export interface DuplicateCopyRef {
  path: string;
  layer: number;
  visible: boolean;
  node: FsNode | undefined;
}

export interface DuplicateResult {
  groups: (DuplicateGroup & { refs: DuplicateCopyRef[] })[];
  /** Sum of visibleExtraBytes over all groups. */
  visibleExtraBytes: number;
}

/**
 * Finds identical regular files (same size and xxh64) stored more than once, across layers or at
 * different paths. Empty files are left out: they cost a tar header, not content.
 */
export function findDuplicates(scans: readonly LayerScan[], root: FsNode, ignore?: (path: string) => boolean): DuplicateResult {
  const counts = new Map<string, number>();
  const keyOf = (e: ScannedEntry) => `${e.size}:${e.hash}`;
  for (const s of scans) {
    for (const e of s.entries) {
      if (e.kind !== 'file' || e.size === 0 || e.hash === undefined) continue;
      const k = keyOf(e);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
  }
  const byKey = new Map<string, DuplicateCopyRef[]>();
  for (const s of scans) {
    for (const e of s.entries) {
      if (e.kind !== 'file' || e.size === 0 || e.hash === undefined) continue;
      const k = keyOf(e);
      if ((counts.get(k) ?? 0) < 2) continue;
      if (ignore?.(e.path)) continue;
      const node = lookup(root, e.path);
      const visible = node?.entry === e;
      let list = byKey.get(k);
      if (!list) byKey.set(k, (list = []));
      list.push({ path: e.path, layer: s.index, visible, node: visible ? node : undefined });
    }
  }
  const groups: DuplicateResult['groups'] = [];
  let visibleExtra = 0;
  for (const [k, refs] of byKey) {
    if (refs.length < 2) continue;
    const size = Number(k.slice(0, k.indexOf(':')));
    const visibleCount = refs.filter((r) => r.visible).length;
    const g = {
      size,
      hash: k.slice(k.indexOf(':') + 1),
      copies: refs.map((r) => ({ path: '/' + r.path, layer: r.layer, visible: r.visible })),
      extraBytes: (refs.length - 1) * size,
      visibleExtraBytes: Math.max(0, visibleCount - 1) * size,
      refs,
    };
    visibleExtra += g.visibleExtraBytes;
    groups.push(g);
  }
  groups.sort((a, b) => b.extraBytes - a.extraBytes || a.copies[0]!.path.localeCompare(b.copies[0]!.path));
  return { groups, visibleExtraBytes: visibleExtra };
}
