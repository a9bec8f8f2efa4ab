import { open, type FileHandle } from 'node:fs/promises';

/**
 * Sequential writes into a new file, with writeback started in the background every 64 MB: the fsync
 * that must precede a rename then finds little left to flush, instead of stalling on gigabytes.
 */
export class FileSink {
  private pos = 0;
  private syncedAt = 0;
  private syncing: Promise<void> | undefined;
  private constructor(readonly fh: FileHandle) {}

  static async create(path: string, flags = 'wx'): Promise<FileSink> {
    return new FileSink(await open(path, flags));
  }

  get written(): number {
    return this.pos;
  }

  async write(chunk: Uint8Array): Promise<void> {
    let done = 0;
    while (done < chunk.byteLength) {
      const { bytesWritten } = await this.fh.write(chunk, done, chunk.byteLength - done, this.pos + done);
      done += bytesWritten;
    }
    this.pos += chunk.byteLength;
    if (!this.syncing && this.pos - this.syncedAt >= 64 * 1024 * 1024) {
      const at = this.pos;
      this.syncing = this.fh
        .datasync()
        .then(() => {
          this.syncedAt = at;
        })
        .catch(() => {})
        .finally(() => {
          this.syncing = undefined;
        });
    }
  }

  /** Waits for background writeback, fsyncs and closes. */
  async finish(): Promise<void> {
    await this.syncing;
    await this.fh.sync();
    await this.fh.close();
  }

  async abort(): Promise<void> {
    await this.syncing;
    await this.fh.close().catch(() => {});
  }
}
