import { rm } from 'node:fs/promises';
import path from 'node:path';
import { createWriteStream } from 'node:fs';
import type { Digest } from '../model/digest.js';
import type { Layer } from '../model/image.js';
import { FileWindow, type RandomAccess } from '../stream/random-access.js';
import { makeScratchDir } from '../stream/scratch.js';
import { readLayerTar } from '../tar/layer-safety.js';
import { contentHasher, initContentHash } from './content-hash.js';
import { entryKey, nameShape } from './paths.js';
import type { Progress } from '../progress.js';

export interface OldEntry {
  key: string; // normalised path
  type: string;
  size: number;
  header: Buffer;
  dataOffset: number;
  /** "<xxh64>:<size>" for regular files with data. */
  content: string | undefined;
}

export interface OldLayer {
  diffId: Digest;
  layer: Layer;
  entries: OldEntry[];
  byPath: Map<string, number>;
  /** Random access to the uncompressed tar (the source's own file, or a spool made while indexing). */
  tar: RandomAccess | undefined;
  /** Uncompressed size of the layer. */
  size: number;
}

export interface EntryRef {
  layer: number;
  entry: number;
}

/**
 * Everything the site already has, indexed for the encoder: every entry of every base layer with its
 * raw header, where its data sits, and a content key, so that files can be found by path (for header
 * and delta references) and by content (moved, renamed, or in a layer rebuilt with a new digest).
 */
export class OldIndex {
  readonly layers: OldLayer[] = [];
  readonly byDiffId = new Map<Digest, number>();
  readonly byContent = new Map<string, EntryRef>();
  /** Path -> entries holding it, topmost layer first. */
  readonly byPath = new Map<string, EntryRef[]>();
  /** Name shape -> regular files, for pairing renamed versions. */
  readonly byShape = new Map<string, EntryRef[]>();
  private spoolDir: string | undefined;
  private readonly used = new Set<number>();

  /** Records that a patch refers to this base layer, so its header lists it as required. */
  markUsed(layer: number): void {
    this.used.add(layer);
  }

  usedLayers(): number[] {
    return [...this.used];
  }

  entry(r: EntryRef): OldEntry {
    return this.layers[r.layer]!.entries[r.entry]!;
  }

  /**
   * Indexes a base layer (once per diffID), reading it in one verified pass. Layers that the source
   * cannot read at random positions (compressed blobs, engine streams) are spooled uncompressed while
   * read, so deltas can seek into them.
   */
  async add(layer: Layer, progress?: Progress): Promise<number> {
    const known = this.byDiffId.get(layer.diffId);
    if (known !== undefined) return known;
    await initContentHash();
    const idx = this.layers.length;
    let tar = layer.randomAccess ? await layer.randomAccess() : undefined;
    let spool: ReturnType<typeof createWriteStream> | undefined;
    let spoolPath: string | undefined;
    if (!tar) {
      this.spoolDir ??= await makeScratchDir('base');
      spoolPath = path.join(this.spoolDir, `${idx}.tar`);
      spool = createWriteStream(spoolPath, { highWaterMark: 1 << 20 });
    }
    const entries: OldEntry[] = [];
    const byPath = new Map<string, number>();
    let hasher = contentHasher();
    let size = 0;
    progress?.start(`indexing base layer ${layer.diffId.slice(7, 19)}`, layer.uncompressedSize ?? layer.descriptor.size);
    const stream = await layer.uncompressed();
    for await (const ev of readLayerTar(spool ? teeTo(stream, spool) : stream, { subject: `base layer ${layer.diffId}` })) {
      if (ev.kind === 'entry') {
        hasher = contentHasher();
        const e = ev.entry;
        const key = entryKey(e.path);
        entries.push({ key, type: e.type, size: e.size, header: e.headerBytes, dataOffset: e.dataOffset, content: undefined });
        byPath.set(key, entries.length - 1);
      } else if (ev.kind === 'data') {
        hasher.update(ev.chunk);
        progress?.advance(ev.chunk.length);
      } else if (ev.kind === 'entry-end') {
        const oe = entries[entries.length - 1]!;
        if ((oe.type === 'file' || oe.type === 'contiguous') && oe.size > 0) oe.content = hasher.key();
      } else if (ev.kind === 'end') {
        size = ev.totalBytes;
      }
    }
    progress?.done();
    if (spool) {
      await new Promise<void>((resolve, reject) => spool!.end((err?: Error | null) => (err ? reject(err) : resolve())));
      tar = await FileWindow.open(spoolPath!);
    }
    this.layers.push({ diffId: layer.diffId, layer, entries, byPath, tar, size });
    this.byDiffId.set(layer.diffId, idx);
    entries.forEach((e, i) => {
      const ref = { layer: idx, entry: i };
      if (e.content && !this.byContent.has(e.content)) this.byContent.set(e.content, ref);
      const list = this.byPath.get(e.key);
      if (list) list.unshift(ref);
      else this.byPath.set(e.key, [ref]);
      if (e.content) {
        const shape = nameShape(e.key);
        const s = this.byShape.get(shape);
        if (s) s.push(ref);
        else this.byShape.set(shape, [ref]);
      }
    });
    return idx;
  }

  /** Reads an entry's file data. */
  async data(r: EntryRef, offset = 0, length?: number): Promise<Buffer> {
    const l = this.layers[r.layer]!;
    const e = l.entries[r.entry]!;
    const n = length ?? e.size - offset;
    return l.tar!.read(e.dataOffset + offset, n);
  }

  async close(): Promise<void> {
    for (const l of this.layers) await l.tar?.close();
    if (this.spoolDir) await rm(this.spoolDir, { recursive: true, force: true });
  }
}

async function* teeTo(stream: AsyncIterable<Buffer>, out: ReturnType<typeof createWriteStream>): AsyncGenerator<Buffer> {
  for await (const chunk of stream) {
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    yield chunk;
  }
}
