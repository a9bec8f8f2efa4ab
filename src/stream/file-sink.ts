import { open, type FileHandle } from 'node:fs/promises';

/** Bytes handed to write() that may still be on their way to the file before write() waits. */
const WRITE_BEHIND = 16 * 1024 * 1024;
/** Writeback is started in the background after this many new bytes. */
const SYNC_EVERY = 64 * 1024 * 1024;

/**
 * Sequential writes into a new file. Writes run behind the caller (up to 16 MB queued, in order), so
 * the producer keeps hashing and decoding while the thread pool writes; and writeback is started in
 * the background every 64 MB, so the fsync that must precede a rename finds little left to flush
 * instead of stalling on gigabytes. Chunks handed to write() must not be changed afterwards (stream
 * chunks never are).
 */
export class FileSink {
  private pos = 0;
  private syncedAt = 0;
  private syncing: Promise<void> | undefined;
  /** The last queued write; each write starts when the one before it is done. */
  private tail: Promise<void> = Promise.resolve();
  /** Queued writes with their sizes, oldest first. */
  private readonly queue: { done: Promise<void>; bytes: number }[] = [];
  private queued = 0;
  private flushed = 0;
  private failure: Error | undefined;
  private constructor(readonly fh: FileHandle) {}

  static async create(path: string, flags = 'wx'): Promise<FileSink> {
    return new FileSink(await open(path, flags));
  }

  /** Bytes written so far, counting those still queued. */
  get written(): number {
    return this.pos;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    if (chunk.byteLength === 0) return;
    const at = this.pos;
    this.pos += chunk.byteLength;
    this.enqueue(chunk, at);
    while (this.queued > WRITE_BEHIND) await this.queue[0]!.done;
    if (this.failure) throw this.failure;
  }

  /** Writes `chunk` at an earlier position (a header patched after its member), after every queued write. */
  async writeAt(chunk: Uint8Array, position: number): Promise<void> {
    if (this.failure) throw this.failure;
    this.enqueue(chunk, position);
    await this.drain();
  }

  private enqueue(chunk: Uint8Array, at: number): void {
    const bytes = chunk.byteLength;
    const entry = { bytes, done: Promise.resolve() };
    this.queued += bytes;
    entry.done = this.tail = this.tail.then(async () => {
      try {
        if (!this.failure) await writeFully(this.fh, chunk, at);
      } catch (err) {
        this.failure ??= err as Error;
      } finally {
        this.queued -= bytes;
        this.queue.shift();
      }
      if (!this.failure) this.flushed = Math.max(this.flushed, at + bytes);
      this.startWriteback();
    });
    this.queue.push(entry);
  }

  private startWriteback(): void {
    if (this.syncing || this.failure || this.flushed - this.syncedAt < SYNC_EVERY) return;
    const at = this.flushed;
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

  /** Waits until every queued write is in the file; throws the first write error. */
  async drain(): Promise<void> {
    await this.tail;
    if (this.failure) throw this.failure;
  }

  /** Waits for queued writes and background writeback, fsyncs and closes. */
  async finish(): Promise<void> {
    try {
      await this.drain();
      await this.syncing;
      await this.fh.sync();
    } catch (err) {
      await this.fh.close().catch(() => {});
      throw err;
    }
    await this.fh.close();
  }

  async abort(): Promise<void> {
    await this.tail;
    await this.syncing;
    await this.fh.close().catch(() => {});
  }
}

async function writeFully(fh: FileHandle, chunk: Uint8Array, at: number): Promise<void> {
  let done = 0;
  while (done < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, done, chunk.byteLength - done, at + done);
    done += bytesWritten;
  }
}
