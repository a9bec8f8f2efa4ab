import { Transform, type TransformCallback } from 'node:stream';

/**
 * Gathers small chunks into larger ones (a rebuilt layer arrives as headers, small files and padding),
 * so that hashing and writing see a few large buffers instead of thousands of tiny ones.
 */
export class Coalesce extends Transform {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly target = 1024 * 1024) {
    super({ highWaterMark: 4 * target });
  }

  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    if (chunk.length >= this.target && this.size === 0) {
      cb(null, chunk);
      return;
    }
    this.parts.push(chunk);
    this.size += chunk.length;
    if (this.size >= this.target) this.flushParts();
    cb();
  }

  override _flush(cb: TransformCallback): void {
    this.flushParts();
    cb();
  }

  private flushParts(): void {
    if (this.size === 0) return;
    this.push(this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size));
    this.parts = [];
    this.size = 0;
  }
}
