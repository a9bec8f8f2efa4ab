/**
 * What a set of images shares, and what they store twice. Layers are shared when their diffIDs are
 * equal (a registry stores the blob once; a host stores it once per chainID). File contents are
 * hashed per distinct layer, streaming each layer's tar once and keeping only digests: a content
 * found in two or more distinct layers is downloaded by a host that runs all of them once per layer,
 * though it is the same bytes. That excess is what a plan of shared bases recovers.
 */
import { createHash, type Hash } from 'node:crypto';
import { chainIds, type Digest } from '../model/digest.js';
import { describeStep, historyForLayers, type HistoryEntry } from '../model/config.js';
import type { Image } from '../model/image.js';
import { readLayerTar } from '../tar/layer-safety.js';

export interface ImageLayerInfo {
  index: number;
  diffId: Digest;
  chainId: Digest;
  /** The blob's size as the source stores it (compressed for registries and OCI layouts, the tar for docker-daemon). */
  size: number;
  /** Bytes of the uncompressed tar. */
  tarSize: number;
  /** The history step that made it. */
  step: string;
}

export interface ImageSummary {
  reference: string;
  layers: ImageLayerInfo[];
  /** Every history entry, empty ones included (for matching Dockerfile steps). */
  history: HistoryEntry[];
  size: number;
}

export interface SharedLayer {
  diffId: Digest;
  size: number;
  uses: { image: string; index: number; chainId: Digest }[];
  /** Every use has the same chainID: hosts store it once too. */
  sameChain: boolean;
}

export interface DuplicateContent {
  /** sha256 of the file bytes. */
  digest: string;
  size: number;
  /** Distinct layers (by diffID) holding it. */
  layers: number;
  /** size x (layers - 1): bytes downloaded more than once by a host that runs all the images. */
  extraBytes: number;
  copies: { image: string; layer: number; diffId: Digest; path: string }[];
}

export interface ImagePair {
  a: string;
  b: string;
  /** Blob bytes of layers both images have. */
  sharedLayerBytes: number;
  /** Bytes of distinct file contents both images have, wherever they are stored. */
  sharedContentBytes: number;
}

export interface ImageSharingReport {
  images: ImageSummary[];
  sharedLayers: SharedLayer[];
  /** Largest excess first; at most `limit` groups (totals count them all). */
  duplicates: DuplicateContent[];
  pairs: ImagePair[];
  totals: {
    images: number;
    layers: number;
    distinctLayers: number;
    /** Sum of every image's layer sizes: what the images take when nothing is shared. */
    layerBytes: number;
    /** Sum over distinct layers: what a registry (and a host running all images) stores. */
    distinctLayerBytes: number;
    /** Distinct file contents (count and bytes) over the distinct layers. */
    contents: number;
    contentBytes: number;
    /** File bytes in the distinct layers (with repeats). */
    fileBytes: number;
    duplicateGroups: number;
    /** Bytes of identical content held in more than one distinct layer, counted once per extra copy. */
    duplicateBytes: number;
  };
}

export interface SharingOptions {
  /** Duplicate groups to list (largest first). */
  limit?: number;
  /** Files smaller than this are not listed as duplicates (they still count in the totals). */
  minFileSize?: number;
}

function summarise(image: Image, tarSizes: Map<string, number>): ImageSummary {
  const chains = chainIds(image.config.rootfs.diff_ids);
  const history = historyForLayers(image.config);
  const layers = image.layers.map((l, i) => ({
    index: i,
    diffId: l.diffId,
    chainId: chains[i]!,
    size: l.descriptor.size,
    tarSize: tarSizes.get(l.diffId) ?? 0,
    step: describeStep(history[i]),
  }));
  return { reference: image.reference, layers, history: [...(image.config.history ?? [])], size: layers.reduce((a, l) => a + l.size, 0) };
}

/** Streams every distinct layer once; `images` stay open (the caller closes them). */
export async function analyseSharing(images: readonly { name: string; image: Image }[], opts: SharingOptions = {}): Promise<ImageSharingReport> {
  const limit = opts.limit ?? 20;
  const minFile = opts.minFileSize ?? 1;
  const contents = new Map<string, { size: number; layers: Set<string>; copies: DuplicateContent['copies'] }>();
  const perImage = new Map<string, Set<string>>();
  const tarSizes = new Map<string, number>();
  let fileBytes = 0;

  // Each distinct layer is read once, whichever image it is first found in.
  const firstUse = new Map<string, { name: string; index: number; image: Image }>();
  for (const { name, image } of images) image.layers.forEach((l, index) => firstUse.has(l.diffId) || firstUse.set(l.diffId, { name, index, image }));
  const layerContents = new Map<string, Set<string>>();
  for (const [diffId, use] of firstUse) {
    const layer = use.image.layers[use.index]!;
    const seen = new Set<string>();
    let hash: Hash | undefined;
    let entryPath = '';
    let entrySize = 0;
    for await (const ev of readLayerTar(await layer.uncompressed(), { subject: `${use.name} layer ${use.index}` })) {
      if (ev.kind === 'entry') {
        const base = ev.entry.path.split('/').pop() ?? '';
        const regular = ev.entry.type === 'file' || ev.entry.type === 'contiguous';
        hash = regular && ev.entry.size > 0 && !base.startsWith('.wh.') ? createHash('sha256') : undefined;
        entryPath = '/' + ev.entry.path.replace(/^\.?\/+/, '');
        entrySize = ev.entry.size;
      } else if (ev.kind === 'data') hash?.update(ev.chunk);
      else if (ev.kind === 'entry-end' && hash) {
        const digest = 'sha256:' + hash.digest('hex');
        hash = undefined;
        fileBytes += entrySize;
        seen.add(digest);
        let c = contents.get(digest);
        if (!c) contents.set(digest, (c = { size: entrySize, layers: new Set(), copies: [] }));
        if (!c.layers.has(diffId)) {
          c.layers.add(diffId);
          c.copies.push({ image: use.name, layer: use.index, diffId: diffId as Digest, path: entryPath });
        }
      } else if (ev.kind === 'end') tarSizes.set(diffId, ev.totalBytes);
    }
    layerContents.set(diffId, seen);
  }
  for (const { name, image } of images) {
    const set = new Set<string>();
    for (const l of image.layers) for (const d of layerContents.get(l.diffId) ?? []) set.add(d);
    perImage.set(name, set);
  }

  const summaries = images.map(({ name, image }) => ({ ...summarise(image, tarSizes), reference: name }));
  const byDiff = new Map<string, SharedLayer>();
  for (const s of summaries) {
    for (const l of s.layers) {
      let e = byDiff.get(l.diffId);
      if (!e) byDiff.set(l.diffId, (e = { diffId: l.diffId, size: l.size, uses: [], sameChain: true }));
      e.uses.push({ image: s.reference, index: l.index, chainId: l.chainId });
    }
  }
  const sharedLayers = [...byDiff.values()].filter((e) => e.uses.length > 1);
  for (const e of sharedLayers) e.sameChain = new Set(e.uses.map((u) => u.chainId)).size === 1;
  sharedLayers.sort((a, b) => b.size - a.size || (a.diffId < b.diffId ? -1 : 1));

  const groups: DuplicateContent[] = [];
  let duplicateBytes = 0;
  let contentBytes = 0;
  for (const [digest, c] of contents) {
    contentBytes += c.size;
    if (c.layers.size < 2) continue;
    const extra = c.size * (c.layers.size - 1);
    duplicateBytes += extra;
    groups.push({ digest, size: c.size, layers: c.layers.size, extraBytes: extra, copies: c.copies });
  }
  groups.sort((a, b) => b.extraBytes - a.extraBytes || (a.digest < b.digest ? -1 : 1));

  const pairs: ImagePair[] = [];
  for (let i = 0; i < summaries.length; i++) {
    for (let j = i + 1; j < summaries.length; j++) {
      const a = summaries[i]!;
      const b = summaries[j]!;
      const bDiffs = new Set(b.layers.map((l) => l.diffId));
      const sharedLayerBytes = [...new Map(a.layers.filter((l) => bDiffs.has(l.diffId)).map((l) => [l.diffId, l.size])).values()].reduce((x, y) => x + y, 0);
      const bSet = perImage.get(b.reference)!;
      let shared = 0;
      for (const d of perImage.get(a.reference)!) if (bSet.has(d)) shared += contents.get(d)!.size;
      pairs.push({ a: a.reference, b: b.reference, sharedLayerBytes, sharedContentBytes: shared });
    }
  }

  const allLayers = summaries.flatMap((s) => s.layers);
  return {
    images: summaries,
    sharedLayers,
    duplicates: groups.filter((g) => g.size >= minFile).slice(0, limit),
    pairs,
    totals: {
      images: summaries.length,
      layers: allLayers.length,
      distinctLayers: byDiff.size,
      layerBytes: allLayers.reduce((a, l) => a + l.size, 0),
      distinctLayerBytes: [...byDiff.values()].reduce((a, l) => a + l.size, 0),
      contents: contents.size,
      contentBytes,
      fileBytes,
      duplicateGroups: groups.length,
      duplicateBytes,
    },
  };
}
