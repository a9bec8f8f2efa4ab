import { compress as zstdCompress } from 'zstd-napi';
import { LayerwiseError } from '../errors.js';
import { ByteWriter } from '../delta/bytes.js';
import type { Cursor } from '../delta/cursor.js';
import type { RandomAccess } from '../stream/random-access.js';
import { StreamCursor, ZstdWriter } from '../stream/zstd.js';
import { SpillBuffer } from '../stream/spill.js';

/**
 * A rebuilt layer is stored as six streams, each compressed on its own because each has its own
 * statistics (flags repeat, mtime deltas repeat, literal data does not):
 *
 *   entries  per tar entry: flags, reference to the old entry it is coded against, content source
 *   fields   header field values (mtime delta, size delta, ...)
 *   hraw     header bytes that the field model cannot express (XOR with the reference, or raw)
 *   dops     delta instructions and windows
 *   diff     DIFF bytes (new minus old, mostly zero)
 *   data     literal bytes: ADD runs of deltas and whole new files, in the order they are used
 *   preload  archives of the layer (.debs, tarballs) whose unpacked files the layer also holds: read
 *            first, so those files come out of them instead of being shipped twice
 */
export const STREAMS = ['entries', 'fields', 'hraw', 'dops', 'diff', 'data', 'preload'] as const;
export type StreamName = (typeof STREAMS)[number];

const SMALL = 1 << 20; // streams up to this size are compressed in one shot, at the best level
const CODEC_RAW = 0;
const CODEC_ZSTD = 1;

/** One stream being written: kept raw while small, then compressed incrementally and spilled to disk. */
export class StreamWriter {
  readonly w = new ByteWriter(4096);
  private zstd: ZstdWriter | undefined;
  private spill: SpillBuffer | undefined;
  rawLength = 0;

  constructor(private readonly name: StreamName, private readonly tmpDir: string) {}

  /** Moves buffered bytes into the compressor once the stream outgrows SMALL. */
  private flushIfLarge(): void {
    if (!this.zstd && this.w.length < SMALL) return;
    if (!this.zstd) {
      this.spill = new SpillBuffer(this.tmpDir, `patch-${this.name}`);
      const spill = this.spill;
      // Long-distance matching finds repeats across files (vendored copies, several bundles of one program).
      // Only literal data gains from a long window (repeats across files); the other streams stay small.
      const data = this.name === 'data';
      // Level 12 compresses new data within ~2% of 15-19 at a quarter of the time (measured on the
      // scenario images); the long window finds identical new files far apart.
      this.zstd = new ZstdWriter((c) => spill.write(c), data ? { level: 12, windowLog: 26, longDistance: true } : { level: this.name === 'preload' ? 3 : 19 });
    }
    this.rawLength += this.w.length;
    this.zstd.write(this.w.view());
    this.w.reset();
  }

  byte(b: number): void {
    this.w.byte(b);
  }
  uint(v: number): void {
    this.w.uint(v);
  }
  int(v: number): void {
    this.w.int(v);
  }
  bytes(b: Uint8Array): void {
    if (b.length > SMALL) {
      this.flushIfLarge();
      this.w.bytes(b);
      this.flushIfLarge();
      return;
    }
    this.w.bytes(b);
    if (this.w.length >= SMALL) this.flushIfLarge();
  }

  /** Finishes the stream: returns its codec, raw length and stored bytes. */
  async finish(): Promise<{ codec: number; rawLength: number; stored: SpillBuffer | Buffer }> {
    if (!this.zstd) {
      const raw = this.w.take();
      if (raw.length === 0) return { codec: CODEC_RAW, rawLength: 0, stored: raw };
      const z = zstdCompress(raw, { compressionLevel: 19 });
      return z.length < raw.length ? { codec: CODEC_ZSTD, rawLength: raw.length, stored: z } : { codec: CODEC_RAW, rawLength: raw.length, stored: raw };
    }
    this.flushIfLarge();
    this.zstd.end();
    await this.spill!.finish();
    return { codec: CODEC_ZSTD, rawLength: this.rawLength, stored: this.spill! };
  }
}

export class SectionWriter {
  readonly streams: Record<StreamName, StreamWriter>;
  constructor(tmpDir: string) {
    this.streams = Object.fromEntries(STREAMS.map((n) => [n, new StreamWriter(n, tmpDir)])) as Record<StreamName, StreamWriter>;
  }

  /** Writes the section (table, then streams) through `out`; returns its length. */
  async finish(out: (chunk: Buffer) => Promise<void>): Promise<{ length: number; streamBytes: Record<StreamName, number> }> {
    const finished = [];
    for (const n of STREAMS) finished.push(await this.streams[n].finish());
    const table = new ByteWriter(64);
    table.byte(STREAMS.length);
    const storedLen = (s: SpillBuffer | Buffer) => (Buffer.isBuffer(s) ? s.length : s.length);
    for (const f of finished) {
      table.byte(f.codec);
      table.uint(f.rawLength);
      table.uint(storedLen(f.stored));
    }
    await out(table.take());
    let length = table.length;
    const streamBytes = {} as Record<StreamName, number>;
    for (let i = 0; i < finished.length; i++) {
      const f = finished[i]!;
      streamBytes[STREAMS[i]!] = storedLen(f.stored);
      if (Buffer.isBuffer(f.stored)) {
        if (f.stored.length) await out(f.stored);
      } else {
        for await (const c of f.stored.read()) await out(c);
        await f.stored.dispose();
      }
      length += storedLen(f.stored);
    }
    return { length, streamBytes };
  }
}

/** Opens the streams of a layer section inside a patch file as lazily decompressing cursors. */
export async function openSection(ra: RandomAccess, offset: number, length: number, subject: string): Promise<Record<StreamName, StreamCursor>> {
  const head = await ra.read(offset, Math.min(length, 1 + STREAMS.length * 21));
  let pos = 0;
  const byte = () => {
    if (pos >= head.length) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: section table truncated`);
    return head[pos++]!;
  };
  const uint = () => {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = byte();
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
    }
    throw new LayerwiseError('PATCH_CORRUPT', `${subject}: bad section table`);
  };
  const count = byte();
  if (count !== STREAMS.length) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: section has ${count} streams, expected ${STREAMS.length}`);
  const specs: { codec: number; raw: number; stored: number }[] = [];
  for (let i = 0; i < count; i++) {
    const codec = byte();
    if (codec !== CODEC_RAW && codec !== CODEC_ZSTD) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: unknown stream codec ${codec}`);
    specs.push({ codec, raw: uint(), stored: uint() });
  }
  let at = offset + pos;
  const total = specs.reduce((a, s) => a + s.stored, 0);
  if (pos + total !== length) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: section streams do not add up to the section length`);
  const out = {} as Record<StreamName, StreamCursor>;
  specs.forEach((s, i) => {
    const name = STREAMS[i]!;
    if (s.codec === CODEC_RAW && s.raw !== s.stored) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: raw stream ${name} length mismatch`);
    out[name] = new StreamCursor(ra, at, s.stored, s.raw, s.codec === CODEC_ZSTD, `${subject}: ${name} stream`);
    at += s.stored;
  });
  return out;
}

export type SectionCursors = Record<StreamName, Cursor & { finish(): void }>;
