import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { LayerwiseError } from '../errors.js';

/** Positional reads over a byte range of a file (a blob, or a member inside an uncompressed archive). */
export interface RandomAccess {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
  /** A stream over [offset, offset+length). */
  stream(offset?: number, length?: number): Readable;
  close(): Promise<void>;
}

const STREAM_CHUNK = 2 * 1024 * 1024;

/** A window [base, base+size) of an open file. Several windows can share one handle. */
export class FileWindow implements RandomAccess {
  private closed = false;
  constructor(
    private readonly fh: FileHandle,
    private readonly base: number,
    readonly size: number,
    private readonly subject: string,
    private readonly ownsHandle: boolean,
  ) {}

  static async open(path: string, base = 0, size?: number): Promise<FileWindow> {
    const fh = await open(path, 'r');
    const total = size ?? (await fh.stat()).size - base;
    return new FileWindow(fh, base, total, path, true);
  }

  async read(offset: number, length: number): Promise<Buffer> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new LayerwiseError('INTERNAL', `${this.subject}: read of [${offset}, ${offset + length}) outside ${this.size} bytes`);
    }
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, this.base + offset + done);
      if (bytesRead === 0) {
        throw new LayerwiseError('TAR_TRUNCATED', `${this.subject}: file ends before byte ${this.base + offset + length} (truncated)`, { subject: this.subject });
      }
      done += bytesRead;
    }
    return buf;
  }

  stream(offset = 0, length = this.size - offset): Readable {
    const self = this;
    let pos = offset;
    const end = offset + length;
    return new Readable({
      // Read ahead a few chunks so the disk works while the consumer hashes and writes.
      highWaterMark: 4 * STREAM_CHUNK,
      async read() {
        try {
          if (pos >= end) {
            this.push(null);
            return;
          }
          const n = Math.min(STREAM_CHUNK, end - pos);
          const chunk = await self.read(pos, n);
          pos += n;
          this.push(chunk);
        } catch (err) {
          this.destroy(err as Error);
        }
      },
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsHandle) await this.fh.close();
  }
}
