import type { Image } from '../model/image.js';
import { silentProgress, type Progress } from '../progress.js';
import { stepText } from './analyze.js';
import { historyForLayers } from '../model/config.js';
import { mergeLayers, walk, type FsNode } from './overlay.js';
import { scanLayer, type LayerScan } from './scan.js';

export const DIFF_SCHEMA_VERSION = 1;

export interface DiffFile {
  path: string;
  type: string;
  size: number;
  layer: number;
}

export interface DiffChange {
  path: string;
  /** What differs: any of type, size, content, mode, link. */
  what: string[];
  a: { type: string; size: number; layer: number };
  b: { type: string; size: number; layer: number };
}

export interface DiffLayer {
  index: number;
  /** Same diffID in both images: the layer is shared and costs nothing to ship. */
  shared: boolean;
  a?: { diffId: string; compressedBytes: number; tarBytes: number; step: string };
  b?: { diffId: string; compressedBytes: number; tarBytes: number; step: string };
  /** b - a, compressed bytes (a missing side counts as 0). */
  compressedDelta: number;
  tarDelta: number;
}

export interface DiffReport {
  schemaVersion: number;
  a: string;
  b: string;
  added: DiffFile[];
  removed: DiffFile[];
  changed: DiffChange[];
  /** Counts and bytes over all files, also when the lists are cut at `limit`. */
  summary: {
    added: { files: number; bytes: number };
    removed: { files: number; bytes: number };
    changed: { files: number; bytesBefore: number; bytesAfter: number };
    finalBytesA: number;
    finalBytesB: number;
    compressedBytesA: number;
    compressedBytesB: number;
    truncated: boolean;
  };
  layers: DiffLayer[];
}

function typeOf(n: FsNode): string {
  return n.children ? 'dir' : n.entry?.kind ?? 'dir';
}

/** Scans both images' layers, each distinct diffID once (shared base layers are read once). */
async function scanAll(images: Image[], progress: Progress): Promise<LayerScan[][]> {
  const cache = new Map<string, LayerScan>();
  const out: LayerScan[][] = [];
  for (const img of images) {
    const scans: LayerScan[] = [];
    for (let i = 0; i < img.layers.length; i++) {
      const l = img.layers[i]!;
      let s = cache.get(l.diffId);
      if (!s) {
        progress.start(`reading layer ${i} of ${img.reference}`, l.uncompressedSize);
        s = await scanLayer(l, i, { onBytes: (n) => progress.advance(n) });
        progress.done();
        cache.set(l.diffId, s);
      }
      scans.push(s.index === i ? s : { ...s, index: i });
    }
    out.push(scans);
  }
  return out;
}

/**
 * Compares the final filesystems of two images: files added, removed and changed (type, size,
 * content, mode or link target), and the size change of each layer, position by position.
 */
export async function diffImages(a: Image, b: Image, opts: { limit?: number; progress?: Progress } = {}): Promise<DiffReport> {
  const progress = opts.progress ?? silentProgress;
  const [scansA, scansB] = await scanAll([a, b], progress);
  const fa = mergeLayers(scansA!).root;
  const fb = mergeLayers(scansB!).root;
  const limit = opts.limit ?? 1000;
  const mapA = new Map<string, FsNode>();
  for (const [p, n] of walk(fa, '')) if (n.parent) mapA.set(p, n);
  const added: DiffFile[] = [];
  const removed: DiffFile[] = [];
  const changed: DiffChange[] = [];
  const summary: DiffReport['summary'] = {
    added: { files: 0, bytes: 0 }, removed: { files: 0, bytes: 0 }, changed: { files: 0, bytesBefore: 0, bytesAfter: 0 },
    finalBytesA: 0, finalBytesB: 0,
    compressedBytesA: a.layers.reduce((s, l) => s + l.descriptor.size, 0),
    compressedBytesB: b.layers.reduce((s, l) => s + l.descriptor.size, 0),
    truncated: false,
  };
  const size = (n: FsNode) => (n.entry?.kind === 'file' ? n.entry.size : 0);
  for (const n of mapA.values()) summary.finalBytesA += size(n);
  for (const [p, nb] of walk(fb, '')) {
    if (!nb.parent) continue;
    summary.finalBytesB += size(nb);
    const na = mapA.get(p);
    if (!na) {
      summary.added.files++;
      summary.added.bytes += size(nb);
      added.push({ path: '/' + p, type: typeOf(nb), size: size(nb), layer: nb.layer });
      continue;
    }
    mapA.delete(p);
    const what: string[] = [];
    if (typeOf(na) !== typeOf(nb)) what.push('type');
    else if (na.entry && nb.entry) {
      if (na.entry.size !== nb.entry.size) what.push('size');
      if (na.entry.hash !== nb.entry.hash && na.entry.size === nb.entry.size) what.push('content');
      if ((na.entry.mode & 0o7777) !== (nb.entry.mode & 0o7777)) what.push('mode');
      if ((na.entry.link ?? '') !== (nb.entry.link ?? '')) what.push('link');
    }
    if (what.length === 0) continue;
    summary.changed.files++;
    summary.changed.bytesBefore += size(na);
    summary.changed.bytesAfter += size(nb);
    changed.push({ path: '/' + p, what, a: { type: typeOf(na), size: size(na), layer: na.layer }, b: { type: typeOf(nb), size: size(nb), layer: nb.layer } });
  }
  for (const [p, na] of mapA) {
    summary.removed.files++;
    summary.removed.bytes += size(na);
    removed.push({ path: '/' + p, type: typeOf(na), size: size(na), layer: na.layer });
  }
  const byPath = (x: { path: string }, y: { path: string }) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0);
  for (const list of [added, removed, changed] as { path: string }[][]) {
    list.sort(byPath);
    if (list.length > limit) {
      list.length = limit;
      summary.truncated = true;
    }
  }
  const ha = historyForLayers(a.config);
  const hb = historyForLayers(b.config);
  const layers: DiffLayer[] = [];
  for (let i = 0; i < Math.max(a.layers.length, b.layers.length); i++) {
    const la = a.layers[i];
    const lb = b.layers[i];
    const side = (l: typeof la, s: LayerScan | undefined, h: ReturnType<typeof historyForLayers>) =>
      l ? { diffId: l.diffId, compressedBytes: l.descriptor.size, tarBytes: s?.tarBytes ?? 0, step: stepText(h[i]) } : undefined;
    const sa = side(la, scansA![i], ha);
    const sb = side(lb, scansB![i], hb);
    layers.push({
      index: i,
      shared: !!la && !!lb && la.diffId === lb.diffId,
      ...(sa ? { a: sa } : {}),
      ...(sb ? { b: sb } : {}),
      compressedDelta: (sb?.compressedBytes ?? 0) - (sa?.compressedBytes ?? 0),
      tarDelta: (sb?.tarBytes ?? 0) - (sa?.tarBytes ?? 0),
    });
  }
  return { schemaVersion: DIFF_SCHEMA_VERSION, a: a.reference, b: b.reference, added, removed, changed, summary, layers };
}
