import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { LayerwiseError } from '../errors.js';
import type { Digest } from '../model/digest.js';
import type { Image, Layer } from '../model/image.js';
import type { Readable } from 'node:stream';
import { scanLayers } from '../image/scan.js';
import { FileWindow, type RandomAccess } from '../stream/random-access.js';
import { makeScratchDir } from '../stream/scratch.js';
import { indexTarEntries } from '../tar/index-random.js';
import { checkLayerEntries, readLayerTar } from '../tar/layer-safety.js';
import type { EntryRef } from './old-index.js';
import type { Progress } from '../progress.js';

/** Bytes read ahead per base layer for small reads. */
const READ_AHEAD = 4 * 1024 * 1024;

export interface BaseEntryInfo {
  header: Buffer;
  size: number;
  type: string;
}

/** Base content the decoder reads: headers of referenced layers and data of referenced entries. */
export interface BaseProvider {
  readonly layerCount: number;
  info(ref: EntryRef): BaseEntryInfo;
  data(ref: EntryRef, offset: number, length: number): Promise<Buffer>;
}

interface StoreLayer {
  entries: BaseEntryInfo[];
  dataOffsets: number[];
  /** Where data is read from: the source's own uncompressed tar, or the spool of needed entries. */
  ra: RandomAccess | undefined;
}

/**
 * The site's base content for applying a patch. Layers the source can read at random positions are
 * used in place (headers indexed by seeking); others (compressed blobs, engine streams) are read once,
 * verified against their diffID, and only the entries the patch uses are kept in a temporary spool.
 */
export class BaseStore implements BaseProvider {
  private readonly layers: (StoreLayer | undefined)[];
  private spoolDir: string | undefined;

  private constructor(count: number) {
    this.layers = new Array(count).fill(undefined);
  }

  get layerCount(): number {
    return this.layers.length;
  }

  /**
   * `required` is the patch's list of base layers; `needed` says, per layer index, which entries' data the
   * patch reads (headers of referenced layers are always kept).
   */
  static async open(required: { diffId: Digest }[], bases: Image[], referenced: Map<number, Set<number>>, progress?: Progress): Promise<BaseStore> {
    const store = new BaseStore(required.length);
    try {
      // Where each referenced layer comes from: the first base image holding it.
      const byDiff = new Map<Digest, { image: Image; layer: Layer }>();
      for (const image of bases) for (const layer of image.layers) if (!byDiff.has(layer.diffId)) byDiff.set(layer.diffId, { image, layer });
      const perImage = new Map<Image, Map<Digest, number>>();
      // Layers read in place are indexed concurrently: one's reads overlap another's header checks.
      const indexing: Promise<void>[] = [];
      for (const i of referenced.keys()) {
        const r = required[i];
        if (!r) throw new LayerwiseError('PATCH_CORRUPT', `patch references base layer ${i}, which its header does not list`);
        const found = byDiff.get(r.diffId);
        if (!found) throw new LayerwiseError('PATCH_BASE_MISSING', `base layer ${r.diffId} is not in the given base images`);
        const ra = found.layer.randomAccess ? await found.layer.randomAccess() : undefined;
        if (ra) {
          indexing.push(
            store.inPlace(found.layer, ra).then((l) => {
              store.layers[i] = l;
            }),
          );
        } else {
          const m = perImage.get(found.image) ?? new Map<Digest, number>();
          m.set(r.diffId, i);
          perImage.set(found.image, m);
        }
      }
      const indexed = await Promise.allSettled(indexing);
      const failed = indexed.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      // The others are streamed: one pass per image (engines deliver every wanted layer in one pass).
      for (const [image, wanted] of perImage) {
        await scanLayers(image, async (layer, tar) => {
          const i = wanted.get(layer.diffId)!;
          store.layers[i] = await store.streamed(layer, tar, referenced.get(i)!, i, progress);
        }, new Set(wanted.keys()));
      }
      return store;
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  private async inPlace(layer: Layer, ra: RandomAccess): Promise<StoreLayer> {
    const entries = await indexTarEntries(ra, `base layer ${layer.diffId}`);
    checkLayerEntries(entries, `base layer ${layer.diffId}`);
    return { entries: entries.map((e) => ({ header: e.headerBytes, size: e.size, type: e.type })), dataOffsets: entries.map((e) => e.dataOffset), ra };
  }

  private async streamed(layer: Layer, tar: Readable, needed: Set<number>, i: number, progress?: Progress): Promise<StoreLayer> {
    // One verified pass: keep every header, copy the data of needed entries into a spool file.
    this.spoolDir ??= await makeScratchDir('apply');
    const spoolPath = path.join(this.spoolDir, `${i}.spool`);
    const spool = createWriteStream(spoolPath, { highWaterMark: 1 << 20 });
    const entries: BaseEntryInfo[] = [];
    const dataOffsets: number[] = [];
    let spooled = 0;
    let keep = false;
    progress?.start(`reading base layer ${layer.diffId.slice(7, 19)}`, layer.descriptor.size);
    for await (const ev of readLayerTar(tar, { subject: `base layer ${layer.diffId}` })) {
      if (ev.kind === 'entry') {
        keep = needed.has(entries.length);
        entries.push({ header: ev.entry.headerBytes, size: ev.entry.size, type: ev.entry.type });
        dataOffsets.push(keep ? spooled : -1);
      } else if (ev.kind === 'data') {
        progress?.advance(ev.chunk.length);
        if (keep) {
          spooled += ev.chunk.length;
          if (!spool.write(ev.chunk)) await new Promise<void>((r) => spool.once('drain', () => r()));
        }
      }
    }
    progress?.done();
    await new Promise<void>((resolve, reject) => spool.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return { entries, dataOffsets, ra: await FileWindow.open(spoolPath) };
  }

  info(ref: EntryRef): BaseEntryInfo {
    const l = this.layers[ref.layer];
    const e = l?.entries[ref.entry];
    if (!e) throw new LayerwiseError('PATCH_BASE_MISMATCH', `patch references entry ${ref.entry} of base layer ${ref.layer}, which the base does not have`);
    return e;
  }

  async data(ref: EntryRef, offset: number, length: number): Promise<Buffer> {
    const l = this.layers[ref.layer]!;
    const at = l.dataOffsets[ref.entry]!;
    const e = l.entries[ref.entry]!;
    if (at < 0 || offset < 0 || offset + length > e.size) {
      throw new LayerwiseError('PATCH_CORRUPT', `patch reads [${offset}, ${offset + length}) of base entry ${ref.layer}/${ref.entry} (${e.size} bytes)`);
    }
    const pos = at + offset;
    // Small reads go through a read-ahead window: rebuilt layers mostly walk their base in order.
    if (length <= READ_AHEAD / 4) {
      const w = this.windows.get(ref.layer);
      if (w && pos >= w.start && pos + length <= w.start + w.bytes.length) return w.bytes.subarray(pos - w.start, pos - w.start + length);
      const bytes = await l.ra!.read(pos, Math.min(READ_AHEAD, l.ra!.size - pos));
      this.windows.set(ref.layer, { start: pos, bytes });
      return bytes.subarray(0, length);
    }
    return l.ra!.read(pos, length);
  }

  private readonly windows = new Map<number, { start: number; bytes: Buffer }>();

  async close(): Promise<void> {
    for (const l of this.layers) await l?.ra?.close();
    if (this.spoolDir) await rm(this.spoolDir, { recursive: true, force: true });
  }
}
