import binding from 'zstd-napi/binding.js';
import { LayerwiseError } from '../errors.js';
import type { RandomAccess } from './random-access.js';

export interface ZstdOptions {
  level?: number;
  /** log2 of the match window; 27 = 128 MB for streams with far repeats. */
  windowLog?: number;
  longDistance?: boolean;
  workers?: number;
}

const OUT_SIZE = binding.cStreamOutSize();

/** One decompression step; the codec's own errors ("Data corruption detected") become PATCH_CORRUPT. */
function inflate(dctx: binding.DCtx, out: Buffer, src: Uint8Array, subject: string): [number, number, number] {
  try {
    return dctx.decompressStream(out, src) as [number, number, number];
  } catch (err) {
    throw new LayerwiseError('PATCH_CORRUPT', `${subject}: invalid zstd data (${(err as Error).message})`);
  }
}

/**
 * Incremental zstd compression with a synchronous sink (e.g. an append to a file or a buffer list).
 * One zstd frame from the first write to end().
 */
export class ZstdWriter {
  private readonly cctx = new binding.CCtx();
  private readonly out = Buffer.allocUnsafe(OUT_SIZE);
  rawBytes = 0;
  storedBytes = 0;

  constructor(private readonly sink: (chunk: Buffer) => void, opts: ZstdOptions = {}) {
    this.cctx.setParameter(binding.CParameter.compressionLevel, opts.level ?? 19);
    if (opts.windowLog) this.cctx.setParameter(binding.CParameter.windowLog, opts.windowLog);
    if (opts.longDistance) this.cctx.setParameter(binding.CParameter.enableLongDistanceMatching, 1);
    if (opts.workers) {
      try {
        this.cctx.setParameter(binding.CParameter.nbWorkers, opts.workers);
      } catch {
        // built without threads: single-threaded is fine
      }
    }
    this.cctx.setParameter(binding.CParameter.checksumFlag, 0);
  }

  private drive(src: Uint8Array, end: binding.EndDirective): void {
    let input = src;
    for (;;) {
      const [remaining, produced, consumed] = this.cctx.compressStream2(this.out, input, end);
      if (produced > 0) {
        this.storedBytes += produced;
        this.sink(Buffer.from(this.out.subarray(0, produced)));
      }
      input = input.subarray(consumed);
      if (end === binding.EndDirective.continue ? input.length === 0 : remaining === 0 && input.length === 0) return;
    }
  }

  write(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.rawBytes += chunk.length;
    this.drive(chunk, binding.EndDirective.continue);
  }

  end(): void {
    this.drive(new Uint8Array(0), binding.EndDirective.end);
  }
}

/** Decompresses a whole zstd buffer (for small streams), refusing output past `maxBytes`. */
export function zstdDecompressAll(input: Uint8Array, expected: number, subject: string): Buffer {
  const dctx = new binding.DCtx();
  const out = Buffer.allocUnsafe(expected);
  let produced = 0;
  let src = input;
  const scratch = Buffer.allocUnsafe(binding.dStreamOutSize());
  for (;;) {
    const [, p, c] = inflate(dctx, scratch, src, subject);
    if (p > 0) {
      if (produced + p > expected) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: stream decompresses past its declared ${expected} bytes`);
      scratch.copy(out, produced, 0, p);
      produced += p;
    }
    src = src.subarray(c);
    if (src.length === 0 && p === 0) break;
  }
  if (produced !== expected) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: stream gives ${produced} bytes, declared ${expected}`);
  return out;
}

/**
 * Decompresses a whole zstd buffer of unknown output size, refusing output past `max` bytes. zstd-napi's
 * own decompress() trusts the frame header's content size and has no limit: a few bytes can ask for
 * gigabytes.
 */
export function zstdDecompressLimited(input: Uint8Array, max: number, subject: string): Buffer {
  const dctx = new binding.DCtx();
  const size = binding.dStreamOutSize();
  const parts: Buffer[] = [];
  let total = 0;
  let src = input;
  for (;;) {
    const out = Buffer.allocUnsafe(size);
    const [remaining, produced, consumed] = inflate(dctx, out, src, subject);
    if (produced > 0) {
      total += produced;
      if (total > max) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: decompresses past the ${max}-byte limit`);
      parts.push(out.subarray(0, produced));
    }
    src = src.subarray(consumed);
    if (src.length === 0 && produced < size) {
      if (remaining !== 0) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: zstd data ends inside a frame (truncated)`);
      break;
    }
  }
  return Buffer.concat(parts, total);
}

/**
 * A pull cursor over a stream of a patch: varints and byte runs, decompressed lazily from a file range,
 * so a multi-GB literal stream never sits in memory.
 */
export class StreamCursor {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private readPos = 0;
  private produced = 0;
  private readonly dctx: binding.DCtx | undefined;
  private readonly scratch: Buffer;
  private pendingIn: Buffer = Buffer.alloc(0);

  constructor(
    private readonly ra: RandomAccess,
    private readonly start: number,
    readonly storedLength: number,
    readonly rawLength: number,
    private readonly compressed: boolean,
    private readonly subject: string,
  ) {
    this.dctx = compressed ? new binding.DCtx() : undefined;
    this.scratch = Buffer.allocUnsafe(compressed ? binding.dStreamOutSize() : 0);
  }

  /** Bytes of decoded stream not yet consumed. */
  get remaining(): number {
    return this.rawLength - this.consumedTotal;
  }

  private consumedTotal = 0;

  private fail(what: string): never {
    throw new LayerwiseError('PATCH_CORRUPT', `${this.subject}: ${what}`);
  }

  /** Makes at least `n` bytes available in buf[pos..] (or fails at the end of the stream). */
  private async fill(n: number): Promise<void> {
    while (this.buf.length - this.pos < n) {
      const chunk = await this.nextChunk();
      if (!chunk) this.fail(`stream ends early (wanted ${n} more bytes)`);
      const rest = this.buf.subarray(this.pos);
      this.buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
      this.pos = 0;
    }
  }

  private async nextChunk(): Promise<Buffer | undefined> {
    if (!this.compressed) {
      if (this.readPos >= this.storedLength) return undefined;
      const n = Math.min(1 << 20, this.storedLength - this.readPos);
      const c = await this.ra.read(this.start + this.readPos, n);
      this.readPos += n;
      this.produced += n;
      return c;
    }
    for (;;) {
      if (this.pendingIn.length === 0) {
        if (this.readPos >= this.storedLength) {
          // Flush whatever the decoder still holds.
          const [, p] = inflate(this.dctx!, this.scratch, this.pendingIn, this.subject);
          if (p > 0) return this.accept(p);
          return undefined;
        }
        const n = Math.min(1 << 20, this.storedLength - this.readPos);
        this.pendingIn = await this.ra.read(this.start + this.readPos, n);
        this.readPos += n;
      }
      const [, p, c] = inflate(this.dctx!, this.scratch, this.pendingIn, this.subject);
      this.pendingIn = this.pendingIn.subarray(c);
      if (p > 0) return this.accept(p);
    }
  }

  private accept(p: number): Buffer {
    this.produced += p;
    if (this.produced > this.rawLength) this.fail(`stream decompresses past its declared ${this.rawLength} bytes`);
    return Buffer.from(this.scratch.subarray(0, p));
  }

  async byte(): Promise<number> {
    if (this.pos >= this.buf.length) await this.fill(1);
    this.consumedTotal++;
    return this.buf[this.pos++]!;
  }

  async uint(): Promise<number> {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = await this.byte();
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
    }
    this.fail('varint too long');
  }

  async int(): Promise<number> {
    const z = await this.uint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  /** n bytes as one buffer (for small runs: headers, fields). */
  async bytes(n: number): Promise<Buffer> {
    if (n > this.remaining) this.fail(`${n} bytes requested, ${this.remaining} left`);
    await this.fill(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.consumedTotal += n;
    return out;
  }

  /** n bytes handed out in chunks (for long literal runs). */
  async take(n: number, emit: (chunk: Buffer) => void | Promise<void>): Promise<void> {
    if (n > this.remaining) this.fail(`${n} bytes requested, ${this.remaining} left`);
    let left = n;
    while (left > 0) {
      if (this.pos >= this.buf.length) await this.fill(1);
      const k = Math.min(left, this.buf.length - this.pos);
      const chunk = this.buf.subarray(this.pos, this.pos + k);
      this.pos += k;
      this.consumedTotal += k;
      left -= k;
      await emit(chunk);
    }
  }

  /** After decoding, everything must have been used: trailing bytes mean a corrupt or tampered patch. */
  finish(): void {
    if (this.remaining !== 0) this.fail(`${this.remaining} bytes left unused`);
  }
}
