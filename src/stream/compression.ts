import { Transform, type Readable, type TransformCallback } from 'node:stream';
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
  constructor(private readonly input: () => number, private readonly maxRatio: number, private readonly subject: string) {
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
}

class Counter extends Transform {
  count = 0;
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.count += chunk.length;
    cb(null, chunk);
  }
}

/**
 * Decompresses a stream. Errors from the codec become COMPRESSION_INVALID naming the subject; trailing
 * garbage after a gzip member is refused (zlib would otherwise silently stop or misread it).
 */
export function decompressStream(input: Readable, compression: Compression, subject: string, maxRatio = DEFAULT_MAX_RATIO): Readable {
  if (compression === 'none') return input;
  const counter = new Counter();
  const codec: Transform =
    compression === 'gzip'
      ? zlib.createGunzip({ chunkSize: 256 * 1024 })
      : (new DecompressStream() as unknown as Transform);
  const guard = new RatioGuard(() => counter.count, maxRatio, subject);
  const out = pipeline(input, counter, codec, guard, (err) => {
    if (err && !guard.destroyed) guard.destroy(translateCodecError(err, compression, subject));
  });
  return out as unknown as Readable;
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
