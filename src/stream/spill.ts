import { openSync, writeSync, closeSync, rmSync, createReadStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

const MEMORY_LIMIT = 16 * 1024 * 1024;

/**
 * Bytes kept in memory until MEMORY_LIMIT, then appended to a temporary file, so a stream of unknown
 * size never grows the heap without bound.
 */
export class SpillBuffer {
  private chunks: Buffer[] = [];
  private inMemory = 0;
  private fd: number | undefined;
  private file: string | undefined;
  length = 0;

  constructor(private readonly dir: string, private readonly label: string) {}

  write(chunk: Buffer): void {
    this.length += chunk.length;
    if (this.fd === undefined && this.inMemory + chunk.length <= MEMORY_LIMIT) {
      this.chunks.push(chunk);
      this.inMemory += chunk.length;
      return;
    }
    if (this.fd === undefined) {
      this.file = path.join(this.dir, `.${this.label}-${process.pid}-${randomBytes(4).toString('hex')}`);
      this.fd = openSync(this.file, 'wx');
      for (const c of this.chunks) writeSync(this.fd, c);
      this.chunks = [];
      this.inMemory = 0;
    }
    writeSync(this.fd, chunk);
  }

  async finish(): Promise<void> {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  async *read(): AsyncGenerator<Buffer> {
    if (this.file) {
      for await (const c of createReadStream(this.file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) yield c;
    } else {
      for (const c of this.chunks) yield c;
    }
  }

  async dispose(): Promise<void> {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (this.file) rmSync(this.file, { force: true });
    this.chunks = [];
  }
}
