import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { LayerwiseError } from '../errors.js';
import { ByteWriter } from '../delta/bytes.js';
import { encodeDelta } from '../delta/encode.js';
import type { Readable } from 'node:stream';
import type { Layer } from '../model/image.js';
import { paddingFor } from '../tar/header.js';
import type { TarEntry } from '../tar/reader.js';
import { readLayerTar } from '../tar/layer-safety.js';
import { contentHasher, type ContentHasher } from './content-hash.js';
import { encodeHeader } from './header-codec.js';
import type { EntryRef, OldIndex } from './old-index.js';
import { entryKey, nameShape } from './paths.js';
import type { SectionWriter } from './section.js';
import { ARCHIVE_KINDS, type ArchiveIndex, type MemberRef } from './archive-index.js';
import type { PatchStats } from './format.js';
import type { Progress } from '../progress.js';

// Entry flags: header mode (2 bits) | content source << 2 (3 bits) | explicit reference << 5 | raw padding << 6.
export const C_NONE = 0;
export const C_SAME = 1; // the data of the header's reference entry
export const C_REF = 2; // the data of another base entry, named in the entries stream
export const C_DELTA_SAME = 3; // a delta against the header reference's data
export const C_DELTA = 4; // a delta against another base entry, named in the entries stream
export const C_LITERAL = 5; // bytes from the data stream
export const C_MEMBER = 6; // a file inside an archive of the same layer, named in the entries stream
export const C_PRELOADED = 7; // an archive whose bytes were sent ahead in the preload stream
export const FLAG_EXPLICIT_REF = 1 << 5;
export const FLAG_RAW_PADDING = 1 << 6;
export const END_OF_LAYER = 0xff;

/** Files up to this size are delta-coded whole in memory; larger ones in windows. */
export const WHOLE_LIMIT = 32 * 1024 * 1024;
export const TARGET_WINDOW = 16 * 1024 * 1024;
export const SOURCE_WINDOW = 32 * 1024 * 1024;

/** The bytes of one new entry: in memory, or in a temporary file once large. */
class EntryData {
  private chunks: Buffer[] = [];
  private fd: number | undefined;
  private file: string | undefined;
  size = 0;
  constructor(private readonly tmpDir: string) {}

  push(chunk: Buffer): void {
    if (this.fd === undefined && this.size + chunk.length <= WHOLE_LIMIT) {
      // Chunks are fresh buffers from the stream (never reused by it), so they are kept without a copy.
      this.chunks.push(chunk);
    } else {
      if (this.fd === undefined) {
        this.file = path.join(this.tmpDir, `.entry-${process.pid}-${randomBytes(4).toString('hex')}`);
        this.fd = openSync(this.file, 'w+');
        for (const c of this.chunks) writeSync(this.fd, c);
        this.chunks = [];
      }
      writeSync(this.fd, chunk);
    }
    this.size += chunk.length;
  }

  get large(): boolean {
    return this.fd !== undefined;
  }

  whole(): Buffer {
    if (this.fd !== undefined) throw new LayerwiseError('INTERNAL', 'whole() on a large entry');
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
  }

  read(offset: number, length: number): Buffer {
    if (this.fd === undefined) return this.whole().subarray(offset, offset + length);
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) done += readSync(this.fd, buf, done, length - done, offset + done);
    return buf;
  }

  dispose(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    if (this.file) rmSync(this.file, { force: true });
    this.fd = undefined;
    this.chunks = [];
  }
}

export interface LayerEncodeResult {
  size: number;
  entries: number;
}

/**
 * Encodes one layer of the new image against everything the site has. One sequential pass over the
 * layer; each entry's data is held only until its content source is decided.
 */
export async function encodeLayer(layer: Layer, tar: Readable, index: OldIndex, section: SectionWriter, stats: PatchStats, tmpDir: string, progress?: Progress, archives?: ArchiveIndex): Promise<LayerEncodeResult> {
  const s = section.streams;
  const hs = { fields: s.fields.w, raw: s.hraw.w };
  let last: EntryRef | undefined;
  let current: { entry: TarEntry; ref: EntryRef | undefined; data: EntryData; hasher: ContentHasher } | undefined;
  let size = 0;
  let count = 0;
  progress?.start(`encoding layer ${layer.diffId.slice(7, 19)}`, layer.uncompressedSize ?? layer.descriptor.size);
  const stream = tar;

  const chooseRef = (key: string): EntryRef | undefined => {
    const list = index.byPath.get(key);
    if (!list || list.length === 0) return undefined;
    if (last) {
      const same = list.find((r) => r.layer === last!.layer);
      if (same) return same;
    }
    return list[0];
  };

  for await (const ev of readLayerTar(stream, { subject: `layer ${layer.diffId}` })) {
    if (ev.kind === 'entry') {
      current = { entry: ev.entry, ref: chooseRef(entryKey(ev.entry.path)), data: new EntryData(tmpDir), hasher: contentHasher() };
      size += ev.entry.headerBytes.length;
    } else if (ev.kind === 'data') {
      current!.data.push(ev.chunk);
      current!.hasher.update(ev.chunk);
      size += ev.chunk.length;
      progress?.advance(ev.chunk.length);
    } else if (ev.kind === 'entry-end') {
      const { entry, ref, data, hasher } = current!;
      size += ev.padding.length;
      count++;
      stats.entries++;
      try {
        const refEntry = ref ? index.entry(ref) : undefined;
        // Header, coded against the reference's header (or raw).
        const metaBefore = s.fields.w.length + s.hraw.w.length;
        const hdrMode = encodeHeader(entry.headerBytes, refEntry?.header, hs);
        stats.metadataBytes += s.fields.w.length + s.hraw.w.length - metaBefore;
        // Content source.
        let content = C_NONE;
        let base: EntryRef | undefined;
        let member: MemberRef | undefined;
        const isData = entry.size > 0;
        const entryIndex = count - 1;
        if (isData) {
          const key = hasher.key();
          if (refEntry && refEntry.content === key) {
            content = C_SAME;
          } else if (index.byContent.has(key)) {
            content = C_REF;
            base = index.byContent.get(key)!;
          } else if (archives?.archives.has(entryIndex)) {
            content = C_PRELOADED;
          } else if (archives?.byKey.has(key)) {
            content = C_MEMBER;
            member = archives.byKey.get(key)!;
          } else {
            const candidate = refEntry && refEntry.content && index.hasData(ref!) ? ref : similarFile(index, entry, data.size);
            content = candidate ? (candidate === ref ? C_DELTA_SAME : C_DELTA) : C_LITERAL;
            base = candidate;
          }
          if (content === C_SAME || content === C_REF) {
            stats.reusedFiles++;
            stats.reusedFileBytes += entry.size;
          }
          if (content === C_MEMBER) {
            stats.archiveFiles = (stats.archiveFiles ?? 0) + 1;
            stats.archiveFileBytes = (stats.archiveFileBytes ?? 0) + entry.size;
          }
          if (content === C_PRELOADED) {
            // The archive goes ahead of everything in the preload stream: entry index, kind, bytes.
            s.preload.uint(entryIndex + 1);
            s.preload.uint(ARCHIVE_KINDS.indexOf(archives!.archives.get(entryIndex)!));
            s.preload.uint(data.size);
            writeLiteral(data, section, 'preload');
            stats.newFiles++;
            stats.newDataBytes += entry.size;
          }
        }
        const rawPadding = !ev.padding.every((b) => b === 0);
        // Content payload (decided before flags: a delta that does not pay off becomes a literal).
        if (content === C_DELTA_SAME || content === C_DELTA) {
          const ok = await encodeContentDelta(index, base!, data, section, stats);
          if (!ok) {
            content = C_LITERAL;
            base = undefined;
          }
        }
        if (content === C_LITERAL) {
          writeLiteral(data, section);
          stats.newFiles++;
          stats.newDataBytes += entry.size;
        }
        const predicted = last ? { layer: last.layer, entry: last.entry + 1 } : undefined;
        // An entry without a reference, or one the decoder cannot predict, names its reference explicitly.
        const explicit = !ref || !predicted || !sameRef(ref, predicted);
        s.entries.byte(hdrMode | (content << 2) | (explicit ? FLAG_EXPLICIT_REF : 0) | (rawPadding ? FLAG_RAW_PADDING : 0));
        if (explicit) {
          s.entries.uint(ref ? ref.layer + 1 : 0);
          if (ref) s.entries.uint(ref.entry);
        }
        if (content === C_REF || content === C_DELTA) {
          s.entries.uint(base!.layer);
          s.entries.uint(base!.entry);
        }
        if (content === C_MEMBER) {
          s.entries.uint(member!.archive);
          s.entries.uint(member!.member);
        }
        if (rawPadding) s.data.bytes(ev.padding);
        if (ref) {
          last = ref;
          index.markUsed(ref.layer);
        }
        if (base) index.markUsed(base.layer);
      } finally {
        data.dispose();
        current = undefined;
      }
    } else if (ev.kind === 'end') {
      s.preload.uint(0);
      s.entries.byte(END_OF_LAYER);
      s.entries.uint(ev.trailer.length / 512);
      size += ev.trailer.length;
    }
  }
  progress?.done();
  return { size, entries: count };
}

function sameRef(a: EntryRef | undefined, b: EntryRef | undefined): boolean {
  return a === b || (!!a && !!b && a.layer === b.layer && a.entry === b.entry);
}

/** A base file to delta against when the path is new: same name shape, closest size, same directory preferred. */
function similarFile(index: OldIndex, entry: TarEntry, size: number): EntryRef | undefined {
  if (size < 64) return undefined;
  const key = entryKey(entry.path);
  const candidates = index.byShape.get(nameShape(key));
  if (!candidates) return undefined;
  const dir = key.slice(0, key.lastIndexOf('/') + 1);
  let best: EntryRef | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const e = index.entry(c);
    if (e.size * 2 < size || e.size > size * 2 || !index.hasData(c)) continue;
    const score = Math.abs(e.size - size) / size + (e.key.startsWith(dir) ? 0 : 0.5);
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

function writeLiteral(data: EntryData, section: SectionWriter, stream: 'data' | 'preload' = 'data'): void {
  const out = section.streams[stream];
  if (!data.large) {
    out.bytes(data.whole());
    return;
  }
  for (let off = 0; off < data.size; off += TARGET_WINDOW) out.bytes(data.read(off, Math.min(TARGET_WINDOW, data.size - off)));
}

/**
 * Writes a delta of `data` against base file `base`. Small files are one window over the whole base;
 * large ones are cut into target windows, each against a source window around the current alignment,
 * which keeps memory bounded for files of any size. Returns false when a literal would be smaller.
 */
async function encodeContentDelta(index: OldIndex, base: EntryRef, data: EntryData, section: SectionWriter, stats: PatchStats): Promise<boolean> {
  const s = section.streams;
  const baseEntry = index.entry(base);
  const out = { ops: new ByteWriter(), diff: new ByteWriter(), add: new ByteWriter() };
  const dops = new ByteWriter();
  if (!data.large && baseEntry.size <= WHOLE_LIMIT) {
    const src = await index.data(base);
    const tgt = data.whole();
    encodeDelta(src, tgt, out);
    dops.uint(0); // 0 windows = one window over the whole base and target
  } else {
    const windows = Math.ceil(data.size / TARGET_WINDOW);
    dops.uint(windows);
    let offset = 0; // source position minus target position, carried across windows
    for (let w = 0; w < windows; w++) {
      const tStart = w * TARGET_WINDOW;
      const tLen = Math.min(TARGET_WINDOW, data.size - tStart);
      let sStart = Math.max(0, Math.min(baseEntry.size, tStart + offset - (SOURCE_WINDOW - TARGET_WINDOW) / 2));
      const sLen = Math.min(SOURCE_WINDOW, baseEntry.size - sStart);
      if (sLen <= 0) sStart = baseEntry.size;
      const src = sLen > 0 ? await index.data(base, sStart, sLen) : Buffer.alloc(0);
      const tgt = data.read(tStart, tLen);
      dops.int(sStart - tStart);
      dops.uint(Math.max(0, sLen));
      // Where this window's first byte is expected in the source window: the alignment carried over.
      const st = encodeDelta(src, tgt, out, undefined, tStart + offset - sStart);
      if (st.lastOffset !== undefined) offset = sStart - tStart + st.lastOffset;
    }
  }
  const cost = out.ops.length + out.add.length + nonZero(out.diff.view()) + dops.length;
  if (cost > data.size * 0.9) return false;
  s.dops.bytes(dops.view());
  s.dops.bytes(out.ops.view());
  s.diff.bytes(out.diff.view());
  s.data.bytes(out.add.view());
  stats.deltaFiles++;
  stats.deltaTargetBytes += data.size;
  stats.deltaBytes += out.ops.length + out.add.length + out.diff.length + dops.length;
  return true;
}

function nonZero(b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) n++;
  return n;
}

export { paddingFor };
