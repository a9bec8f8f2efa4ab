import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { errorForNetwork, isTransient } from './errors.js';
import { backoffDelay, type RetryPolicy } from './retry.js';

export interface ResumableOptions {
  /**
   * Opens the blob from `offset`. Returns the response and the byte its body starts at: `offset` for a
   * 206, 0 when the server ignored the Range (the stream then skips what it already delivered).
   * `resuming` is set after a drop: the stream's own bounded loop retries then, so open should not.
   */
  open(offset: number, resuming: boolean): Promise<{ res: IncomingMessage; start: number }>;
  /** Expected size; without it, a clean end of the response is the end of the blob. */
  size?: number;
  retry: RetryPolicy;
  registry: string;
}

/**
 * The bytes of one blob as a single stream that survives dropped connections: when the response breaks
 * off (reset, timeout, or ends before `size`), it asks again from the byte reached and continues, so a
 * verifying stream downstream keeps hashing across the resume. Retries are bounded; the count resets
 * whenever bytes arrive, so a slow but moving transfer is never abandoned.
 */
class ResumableBlobStream extends Readable {
  private offset = 0;
  private res: IncomingMessage | undefined;
  private opening = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Resumes done, for diagnostics. */
  resumes = 0;

  constructor(private readonly opts: ResumableOptions) {
    super({ highWaterMark: 1024 * 1024 });
  }

  /** Opens the first response eagerly, so "not found" and auth errors surface before anyone reads. */
  async start(): Promise<void> {
    this.opening = true;
    try {
      const { res, start } = await this.opts.open(0, false);
      this.opening = false;
      this.attach(res, start);
      res.pause();
    } catch (err) {
      this.opening = false;
      throw err;
    }
  }

  override _read(): void {
    if (this.res) this.res.resume();
    else if (!this.opening && !this.timer) this.connect();
  }

  private connect(): void {
    this.opening = true;
    this.opts.open(this.offset, true).then(
      ({ res, start }) => {
        this.opening = false;
        if (this.destroyed) {
          res.destroy();
          return;
        }
        this.attach(res, start);
      },
      (err: unknown) => {
        this.opening = false;
        this.broken(err);
      },
    );
  }

  private attach(res: IncomingMessage, start: number): void {
    this.res = res;
    let skip = this.offset - start;
    let settled = false;
    const settle = (err: unknown | undefined) => {
      if (settled) return;
      settled = true;
      if (this.res === res) this.res = undefined;
      res.removeAllListeners('data');
      if (err !== undefined) {
        res.destroy();
        this.broken(err);
        return;
      }
      if (this.opts.size !== undefined && this.offset < this.opts.size) {
        this.broken(Object.assign(new Error(`connection closed after ${this.offset} of ${this.opts.size} bytes`), { code: 'ECONNRESET' }));
        return;
      }
      this.push(null);
    };
    res.on('data', (chunk: Buffer) => {
      if (skip > 0) {
        if (chunk.length <= skip) {
          skip -= chunk.length;
          return;
        }
        chunk = chunk.subarray(skip);
        skip = 0;
      }
      this.offset += chunk.length;
      this.failures = 0;
      if (!this.push(chunk)) res.pause();
    });
    res.on('end', () => settle(undefined));
    res.on('error', (err) => settle(err));
    res.on('close', () => {
      if (!res.complete) settle(Object.assign(new Error('connection closed mid-blob'), { code: 'ECONNRESET' }));
    });
  }

  private broken(err: unknown): void {
    if (this.destroyed) return;
    const e = errorForNetwork(this.opts.registry, err);
    if (!isTransient(e) || this.failures >= this.opts.retry.retries) {
      this.destroy(e);
      return;
    }
    const delay = backoffDelay(this.opts.retry, this.failures);
    this.failures++;
    this.resumes++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.destroyed) this.connect();
    }, delay);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.res?.destroy();
    this.res = undefined;
    cb(err);
  }
}

/** A resumable blob stream whose first request has already succeeded (errors like 404 throw here). */
export async function resumableBlobStream(opts: ResumableOptions): Promise<Readable> {
  const s = new ResumableBlobStream(opts);
  await s.start();
  return s;
}
