import { classifyJunk } from './junk.js';
import type { FsNode, MergedFilesystem } from './overlay.js';
import { lookup, walk } from './overlay.js';

/** How hidden bytes came to be hidden; 'rewritten' is an overwrite with identical content (chmod, chown, touch). */
export type WasteReason = 'deleted' | 'overwritten' | 'rewritten';

/** Hidden bytes grouped by the layer that stored them, the layer that hid them, and how. */
export interface WasteGroup {
  layer: number;
  by: number;
  reason: WasteReason;
  bytes: number;
  files: number;
  /** Deleted or overwritten paths (whole folders where a folder went) and the hidden bytes under each. */
  roots: Map<string, number>;
  /** The junk rule every hidden file falls under (apt lists deleted one RUN too late), null when mixed. */
  junkRule: string | null | undefined;
}

export interface WasteResult {
  /** Bytes stored in some layer and not visible in the final filesystem. */
  wastedBytes: number;
  /** Per layer: bytes it stores that later layers hide. */
  perLayer: number[];
  groups: WasteGroup[];
  /** Hidden entries whose content stays visible through a hardlink in the same layer (not waste). */
  rescuedBytes: number;
}

/**
 * Waste is every byte of a regular file that a layer stores and the final filesystem does not show:
 * files deleted (one by one, as a whole folder, or by an opaque whiteout) or replaced by a later layer.
 * The copy that remains visible is not counted; see docs/analyze.md for how this differs from dive.
 */
export function computeWaste(fs: MergedFilesystem, layerCount: number, ignore?: (path: string) => boolean): WasteResult {
  // A hardlink keeps its target's content alive even when the target's name is deleted or replaced.
  const linked = new Set<string>();
  for (const [, n] of walk(fs.root, '')) {
    if (n.entry?.kind === 'hardlink' && n.entry.link !== undefined) linked.add(`${n.layer}\0${n.entry.link}`);
  }
  const perLayer = new Array<number>(layerCount).fill(0);
  const groups = new Map<string, WasteGroup>();
  let wasted = 0;
  let rescued = 0;
  for (const h of fs.hidden) {
    if (h.entry.kind !== 'file' || h.entry.size === 0) continue;
    if (linked.has(`${h.layer}\0${h.path}`)) {
      rescued += h.entry.size;
      continue;
    }
    if (ignore?.(h.path)) continue;
    let reason: WasteReason = h.reason;
    if (reason === 'overwritten') {
      const now: FsNode | undefined = lookup(fs.root, h.path);
      if (now?.entry?.kind === 'file' && now.entry.size === h.entry.size && now.entry.hash === h.entry.hash) reason = 'rewritten';
    }
    wasted += h.entry.size;
    perLayer[h.layer] = (perLayer[h.layer] ?? 0) + h.entry.size;
    const key = `${h.layer}:${h.by}:${reason}`;
    let g = groups.get(key);
    if (!g) {
      g = { layer: h.layer, by: h.by, reason, bytes: 0, files: 0, roots: new Map(), junkRule: undefined };
      groups.set(key, g);
    }
    g.bytes += h.entry.size;
    g.files++;
    g.roots.set(h.root, (g.roots.get(h.root) ?? 0) + h.entry.size);
    const rule = classifyJunk(h.path)?.rule.id ?? null;
    g.junkRule = g.junkRule === undefined || g.junkRule === rule ? rule : null;
  }
  return { wastedBytes: wasted, perLayer, groups: [...groups.values()].sort((a, b) => b.bytes - a.bytes), rescuedBytes: rescued };
}
