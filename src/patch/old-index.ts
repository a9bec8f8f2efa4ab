import { rm } from 'node:fs/promises';
import path from 'node:path';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { LayerwiseError } from '../errors.js';
import type { Digest } from '../model/digest.js';
import type { Layer } from '../model/image.js';
import { FileWindow, type RandomAccess } from '../stream/random-access.js';
import { makeScratchDir } from '../stream/scratch.js';
import { readLayerTar } from '../tar/layer-safety.js';
import { contentHasher, initContentHash } from './content-hash.js';
import { entryKey, nameShape } from './paths.js';
import { ArchiveIndex } from './archive-index.js';
import { archiveKind, MAX_ARCHIVE, type ArchiveKind } from './archives.js';
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
   * Indexes a base layer (once per diffID) from its verified tar stream. Layers the source can read at
   * random positions need nothing more. For the others (compressed blobs, engine streams) the data the
   * encoder may need as delta bases is kept in a spool: all of it without a survey; with one, only
   * regular files that share a path or a name shape with a new file and whose content the new image
   * does not contain as is.
   */
  async ingest(layer: Layer, tar: Readable, survey?: Survey, progress?: Progress): Promise<number> {
    const known = this.byDiffId.get(layer.diffId);
    if (known !== undefined) {
      tar.resume();
      return known;
    }
    await initContentHash();
    const idx = this.layers.length;
    let ra = layer.randomAccess ? await layer.randomAccess() : undefined;
    let spoolFd: number | undefined;
    let spoolPath: string | undefined;
    let spoolPos = 0;
    if (!ra) {
      this.spoolDir ??= await makeScratchDir('base');
      spoolPath = path.join(this.spoolDir, `${idx}.spool`);
      spoolFd = openSync(spoolPath, 'w+');
    }
    const entries: OldEntry[] = [];
    const byPath = new Map<string, number>();
    let hasher = contentHasher();
    let size = 0;
    let keeping = false;
    let entryStart = 0;
    progress?.start(`indexing base layer ${layer.diffId.slice(7, 19)}`, layer.uncompressedSize ?? layer.descriptor.size);
    try {
      for await (const ev of readLayerTar(tar, { subject: `base layer ${layer.diffId}` })) {
        if (ev.kind === 'entry') {
          hasher = contentHasher();
          const e = ev.entry;
          const key = entryKey(e.path);
          const regular = (e.type === 'file' || e.type === 'contiguous') && e.size > 0;
          keeping = spoolFd !== undefined && regular && (!survey || survey.byPath.has(key) || survey.shapes.has(nameShape(key)));
          entryStart = spoolPos;
          entries.push({ key, type: e.type, size: e.size, header: e.headerBytes, dataOffset: ra ? e.dataOffset : keeping ? spoolPos : -1, content: undefined });
          byPath.set(key, entries.length - 1);
        } else if (ev.kind === 'data') {
          hasher.update(ev.chunk);
          if (keeping) {
            writeSync(spoolFd!, ev.chunk, 0, ev.chunk.length, spoolPos);
            spoolPos += ev.chunk.length;
          }
          progress?.advance(ev.chunk.length);
        } else if (ev.kind === 'entry-end') {
          const oe = entries[entries.length - 1]!;
          if ((oe.type === 'file' || oe.type === 'contiguous') && oe.size > 0) oe.content = hasher.key();
          // Content the new image has as is will be referenced, never delta-coded against: drop it again.
          if (keeping && survey && oe.content && survey.keys.has(oe.content)) {
            spoolPos = entryStart;
            oe.dataOffset = -1;
          }
          keeping = false;
        } else if (ev.kind === 'end') {
          size = ev.totalBytes;
        }
      }
    } finally {
      progress?.done();
      if (spoolFd !== undefined) closeSync(spoolFd);
    }
    if (spoolPath) ra = await FileWindow.open(spoolPath);
    this.layers.push({ diffId: layer.diffId, layer, entries, byPath, tar: ra, size });
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

  /** Whether an entry's data can be read (in place, or kept in the spool). */
  hasData(r: EntryRef): boolean {
    return this.entry(r).dataOffset >= 0;
  }

  /** Reads an entry's file data. */
  async data(r: EntryRef, offset = 0, length?: number): Promise<Buffer> {
    const l = this.layers[r.layer]!;
    const e = l.entries[r.entry]!;
    if (e.dataOffset < 0) throw new LayerwiseError('INTERNAL', `base entry ${e.key} was not kept`);
    const n = length ?? e.size - offset;
    return l.tar!.read(e.dataOffset + offset, n);
  }

  async close(): Promise<void> {
    for (const l of this.layers) await l.tar?.close();
    if (this.spoolDir) await rm(this.spoolDir, { recursive: true, force: true });
  }
}

/**
 * What the new image's rebuilt layers contain, gathered before the base is indexed: paths and their
 * content, name shapes, and every content key. Lets base indexing keep only possible delta bases.
 */
export interface Survey {
  byPath: Map<string, string>;
  shapes: Set<string>;
  keys: Set<string>;
}

export function emptySurvey(): Survey {
  return { byPath: new Map(), shapes: new Set(), keys: new Set() };
}

/**
 * Adds one new layer's regular files to a survey (metadata and content keys only) and, when an archive
 * index is given, lists the members of the archives the layer holds.
 */
export async function surveyLayer(tar: Readable, subject: string, survey: Survey, archives?: ArchiveIndex): Promise<void> {
  await initContentHash();
  let hasher = contentHasher();
  let key = '';
  let regular = false;
  let index = -1;
  let archive: { kind: ArchiveKind | undefined; parts: Buffer[]; path: string } | undefined;
  for await (const ev of readLayerTar(tar, { subject })) {
    if (ev.kind === 'entry') {
      index++;
      hasher = contentHasher();
      key = entryKey(ev.entry.path);
      regular = (ev.entry.type === 'file' || ev.entry.type === 'contiguous') && ev.entry.size > 0;
      archive = archives && regular && ev.entry.size >= 64 && ev.entry.size <= MAX_ARCHIVE ? { kind: undefined, parts: [], path: ev.entry.path } : undefined;
    } else if (ev.kind === 'data') {
      hasher.update(ev.chunk);
      if (archive) {
        if (archive.parts.length === 0) {
          archive.kind = archiveKind(archive.path, ev.chunk);
          if (!archive.kind) archive = undefined;
        }
        archive?.parts.push(Buffer.from(ev.chunk));
      }
    } else if (ev.kind === 'entry-end' && regular) {
      const content = hasher.key();
      survey.byPath.set(key, content);
      survey.shapes.add(nameShape(key));
      survey.keys.add(content);
      if (archive?.kind) await archives!.add(index, archive.kind, Buffer.concat(archive.parts), `${subject}: ${archive.path}`, content);
      archive = undefined;
    }
  }
}
