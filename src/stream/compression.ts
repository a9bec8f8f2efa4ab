import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream';
import zlib from 'node:zlib';
import { CompressStream, DecompressStream } from 'zstd-napi';
import { LayerwiseError } from '../errors.js';
import type { Compression } from '../model/media-types.js';

/** Detects gzip and zstd by their magic bytes; anything else is treated as uncompressed. */
export function sniffCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/**
 * Output bytes allowed per input byte before decompression is refused as a bomb. Deflate cannot exceed
 * about 1032:1, so in practice this guards zstd; it is measured only past BOMB_FREE_BYTES of output.
 */
export const DEFAULT_MAX_RATIO = 2048;
const BOMB_FREE_BYTES = 64 * 1024 * 1024;

class RatioGuard extends Transform {
  private out = 0;
  constructor(
    private readonly input: () => number,
    private readonly maxRatio: number,
    private readonly subject: string,
    /** Input bytes the codec used; less than it was given means data after the end of the compressed stream. */
    private readonly consumed: (() => number) | undefined,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.out += chunk.length;
    const inBytes = Math.max(1, this.input());
    if (this.out > BOMB_FREE_BYTES && this.out / inBytes > this.maxRatio) {
      cb(new LayerwiseError('DECOMPRESSION_BOMB', `${this.subject}: decompresses past ${this.maxRatio}:1 (${this.out} bytes from ${inBytes}); refused as a decompression bomb`, { subject: this.subject }));
      return;
    }
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    const used = this.consumed?.();
    const given = this.input();
    if (used !== undefined && used < given) {
      // zlib stops quietly at the end of the last gzip member; Go's reader (docker, containerd) fails instead.
      cb(new LayerwiseError('COMPRESSION_INVALID', `${this.subject}: ${given - used} bytes of data after the end of the gzip stream`, { subject: this.subject }));
      return;
    }
    cb();
  }
}

class Counter extends Transform {
  count = 0;
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.count += chunk.length;
    cb(null, chunk);
  }
}

/**
 * Decompresses a stream. Every failure reaches the reader as one LayerwiseError: codec errors become
 * COMPRESSION_INVALID naming the subject, data after the end of a gzip stream is refused, and output
 * past maxRatio times the input is refused as a bomb.
 */
export function decompressStream(input: Readable, compression: Compression, subject: string, maxRatio = DEFAULT_MAX_RATIO): Readable {
  if (compression === 'none') return input;
  const counter = new Counter();
  const gunzip = compression === 'gzip' ? zlib.createGunzip({ chunkSize: 256 * 1024 }) : undefined;
  const codec: Transform = gunzip ?? (new DecompressStream() as unknown as Transform);
  const guard = new RatioGuard(() => counter.count, maxRatio, subject, gunzip && (() => gunzip.bytesWritten));
  // The reader gets its own end of the chain: pipeline would hand it the codec's raw error before translation.
  const out = new PassThrough();
  pipeline(input, counter, codec, guard, (err) => {
    if (err) out.destroy(translateCodecError(err, compression, subject));
  });
  guard.pipe(out);
  out.on('close', () => {
    if (!guard.readableEnded) guard.destroy();
  });
  return out;
}

function translateCodecError(err: Error, compression: Compression, subject: string): Error {
  if (err instanceof LayerwiseError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ERR_STREAM_PREMATURE_CLOSE') return err;
  return new LayerwiseError('COMPRESSION_INVALID', `${subject}: invalid ${compression} data (${err.message})`, { subject, cause: err });
}

export interface CompressOptions {
  /** gzip 1-9 (default 6, what docker and most tools use); zstd 1-19 (default 3). */
  level?: number;
}

export function compressStream(compression: Compression, options: CompressOptions = {}): Transform {
  if (compression === 'gzip') return zlib.createGzip({ level: options.level ?? 6, chunkSize: 256 * 1024 });
  if (compression === 'zstd') {
    return new CompressStream({ compressionLevel: options.level ?? 3, checksumFlag: false }) as unknown as Transform;
  }
  return new Transform({ transform: (c, _e, cb) => cb(null, c) });
}
