import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { LayerwiseError, type ErrorCode } from '../errors.js';
import type { Digest } from '../model/digest.js';

export interface Expectation {
  digest?: Digest;
  size?: number;
  /** Names the blob in error messages: a file path, or "layer 3 of docker-archive:x.tar". */
  subject: string;
  /** DIGEST_MISMATCH by default; DIFFID_MISMATCH for uncompressed layer content. */
  mismatchCode?: ErrorCode;
}

/**
 * A pass-through that hashes and counts what flows through it and fails at the end (or as soon as the
 * size is exceeded) when the bytes are not what was promised. Nothing downstream should commit output
 * before this stream has ended cleanly.
 */
export class VerifyingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private count = 0;

  constructor(private readonly expect: Expectation) {
    // A few MB of buffer lets reading, hashing and writing overlap instead of taking turns.
    super({ highWaterMark: 4 * 1024 * 1024 });
  }

  get bytes(): number {
    return this.count;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.count += chunk.length;
    if (this.expect.size !== undefined && this.count > this.expect.size) {
      cb(new LayerwiseError('SIZE_MISMATCH', `${this.expect.subject}: more than the expected ${this.expect.size} bytes`, { subject: this.expect.subject }));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.expect.size !== undefined && this.count !== this.expect.size) {
      cb(new LayerwiseError('SIZE_MISMATCH', `${this.expect.subject}: ${this.count} bytes, expected ${this.expect.size} (truncated?)`, { subject: this.expect.subject }));
      return;
    }
    const got = `sha256:${this.hash.digest('hex')}`;
    if (this.expect.digest !== undefined && got !== this.expect.digest) {
      cb(new LayerwiseError(this.expect.mismatchCode ?? 'DIGEST_MISMATCH', `${this.expect.subject}: content is ${got}, expected ${this.expect.digest}`, { subject: this.expect.subject }));
      return;
    }
    cb();
  }
}

/** A pass-through that only measures: sha256 and byte count, read after the stream ended. */
export class DigestingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private count = 0;
  private result: Digest | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.count += chunk.length;
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.result = `sha256:${this.hash.digest('hex')}` as Digest;
    cb();
  }

  get bytes(): number {
    return this.count;
  }

  get digest(): Digest {
    if (!this.result) throw new LayerwiseError('INTERNAL', 'digest read before the stream ended');
    return this.result;
  }
}

/** Incremental sha256 over buffers, for code that already holds the chunks. */
export class Sha256 {
  private readonly hash = createHash('sha256');
  bytes = 0;
  update(chunk: Uint8Array): this {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
    return this;
  }
  digest(): Digest {
    return `sha256:${this.hash.digest('hex')}` as Digest;
  }
}
