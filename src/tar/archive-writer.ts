import { FileSink } from '../stream/file-sink.js';
import type { Readable, Writable } from 'node:stream';
import { LayerwiseError } from '../errors.js';
import { BLOCK, paddingFor } from './header.js';
import { encodeHeader, END_OF_ARCHIVE } from './writer.js';

/** Writes the members of an image archive (docker-archive, oci-archive). */
export interface ArchiveWriter {
  addFile(name: string, data: Uint8Array): Promise<void>;
  addDir(name: string): Promise<void>;
  /** Streams a member; `size` may be omitted only by writers that can seek back to fix the header. */
  addStream(name: string, stream: Readable, size?: number): Promise<number>;
  finish(): Promise<void>;
}

const MTIME = 0; // archives we write are reproducible: same image, same bytes

/** Writes into a file with positional writes, so a member of unknown size gets its header patched afterwards. */
export class TarFileWriter implements ArchiveWriter {
  private constructor(private readonly sink: FileSink, private readonly subject: string) {}

  static async create(path: string): Promise<TarFileWriter> {
    return new TarFileWriter(await FileSink.create(path), path);
  }

  private get pos(): number {
    return this.sink.written;
  }

  private put(buf: Uint8Array): Promise<void> {
    return this.sink.write(buf);
  }

  async addFile(name: string, data: Uint8Array): Promise<void> {
    await this.put(encodeHeader({ path: name, type: 'file', size: data.byteLength, mode: 0o644, mtime: MTIME }));
    await this.put(data);
    await this.put(Buffer.alloc(paddingFor(data.byteLength)));
  }

  async addDir(name: string): Promise<void> {
    await this.put(encodeHeader({ path: name.endsWith('/') ? name : name + '/', type: 'dir', mode: 0o755, mtime: MTIME }));
  }

  async addStream(name: string, stream: Readable, size?: number): Promise<number> {
    const headerAt = this.pos;
    const provisional = encodeHeader({ path: name, type: 'file', size: size ?? 0, mode: 0o644, mtime: MTIME });
    if (size === undefined && provisional.length !== BLOCK) {
      throw new LayerwiseError('INTERNAL', `${this.subject}: member name ${name} needs an extended header; its size must be known`);
    }
    await this.put(provisional);
    let n = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      await this.put(chunk);
      n += chunk.length;
    }
    if (size !== undefined && n !== size) {
      throw new LayerwiseError('SIZE_MISMATCH', `${this.subject}: ${name} produced ${n} bytes, expected ${size}`, { subject: this.subject });
    }
    await this.put(Buffer.alloc(paddingFor(n)));
    if (size === undefined) {
      const header = encodeHeader({ path: name, type: 'file', size: n, mode: 0o644, mtime: MTIME });
      await this.sink.writeAt(header, headerAt);
    }
    return n;
  }

  async finish(): Promise<void> {
    await this.put(END_OF_ARCHIVE);
    await this.sink.finish();
  }

  async abort(): Promise<void> {
    await this.sink.abort();
  }
}

/** Writes to a stream (e.g. the body of a Docker engine load request); every size must be known up front. */
export class TarStreamWriter implements ArchiveWriter {
  constructor(private readonly out: Writable) {}

  private put(buf: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.out.destroyed) {
        reject(new LayerwiseError('IO', 'output stream closed'));
        return;
      }
      const ok = this.out.write(buf, (err) => (err ? reject(err) : undefined));
      if (ok) resolve();
      else {
        const onDrain = () => {
          this.out.off('error', onError);
          resolve();
        };
        const onError = (err: Error) => {
          this.out.off('drain', onDrain);
          reject(err);
        };
        this.out.once('drain', onDrain);
        this.out.once('error', onError);
      }
    });
  }

  async addFile(name: string, data: Uint8Array): Promise<void> {
    await this.put(encodeHeader({ path: name, type: 'file', size: data.byteLength, mode: 0o644, mtime: MTIME }));
    await this.put(data);
    await this.put(Buffer.alloc(paddingFor(data.byteLength)));
  }

  async addDir(name: string): Promise<void> {
    await this.put(encodeHeader({ path: name.endsWith('/') ? name : name + '/', type: 'dir', mode: 0o755, mtime: MTIME }));
  }

  async addStream(name: string, stream: Readable, size?: number): Promise<number> {
    if (size === undefined) throw new LayerwiseError('INTERNAL', `${name}: a streamed archive needs every member's size up front`);
    await this.put(encodeHeader({ path: name, type: 'file', size, mode: 0o644, mtime: MTIME }));
    let n = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > size) throw new LayerwiseError('SIZE_MISMATCH', `${name}: more than the expected ${size} bytes`);
      await this.put(chunk);
    }
    if (n !== size) throw new LayerwiseError('SIZE_MISMATCH', `${name}: ${n} bytes, expected ${size}`);
    await this.put(Buffer.alloc(paddingFor(n)));
    return n;
  }

  async finish(): Promise<void> {
    await this.put(END_OF_ARCHIVE);
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}
