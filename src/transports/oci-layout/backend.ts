import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { LayerwiseError } from '../../errors.js';
import { digestHex, sha256, type Digest } from '../../model/digest.js';
import { cleanDeadTemps, cleanTempSiblings, exists, fsyncDir, fsyncPath, tempSibling } from '../../stream/atomic.js';
import { Sha256 } from '../../stream/verify.js';
import { TarFileWriter } from '../../tar/archive-writer.js';
import { FileSink } from '../../stream/file-sink.js';

export interface BlobExpectation {
  digest?: Digest;
  size?: number;
  /**
   * The stream already verifies itself against `digest` and `size` (it errors at its end on a mismatch),
   * so the writer need not hash the same bytes a second time.
   */
  verified?: boolean;
}

/** Where an OCI layout is being written: a directory, or a tar (oci-archive). */
export interface LayoutBackend {
  readonly subject: string;
  hasBlob(digest: Digest): Promise<boolean>;
  putBlob(bytes: Buffer): Promise<Digest>;
  /** Writes a blob from a stream, hashing it; when an expectation is given, a mismatch fails the write. */
  putBlobStream(stream: Readable, expect?: BlobExpectation): Promise<{ digest: Digest; size: number }>;
  /** Existing index.json, if the destination already is a layout (directories only). */
  existingIndex(): Promise<Buffer | undefined>;
  /** Writes index.json and oci-layout last and makes everything visible at once. */
  commit(indexJson: Buffer): Promise<void>;
  abort(): Promise<void>;
}

const OCI_LAYOUT = Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }));

function verifyExpect(subject: string, got: { digest: Digest; size: number }, expect?: BlobExpectation): void {
  if (expect?.size !== undefined && got.size !== expect.size) {
    throw new LayerwiseError('SIZE_MISMATCH', `${subject}: blob is ${got.size} bytes, expected ${expect.size}`, { subject });
  }
  if (expect?.digest !== undefined && got.digest !== expect.digest) {
    throw new LayerwiseError('DIGEST_MISMATCH', `${subject}: blob is ${got.digest}, expected ${expect.digest}`, { subject });
  }
}

/**
 * A directory layout. A new directory is built under a temporary name and renamed into place; an existing
 * layout gets its blobs through temporary files and index.json replaced last, and on failure the blobs
 * this run added are removed again.
 */
export class DirectoryBackend implements LayoutBackend {
  private readonly created: string[] = [];
  private constructor(readonly subject: string, private readonly final: string, private readonly root: string, private readonly fresh: boolean) {}

  static async open(dir: string): Promise<DirectoryBackend> {
    const final = path.resolve(dir);
    await mkdir(path.dirname(final), { recursive: true });
    await cleanTempSiblings(final);
    if (await exists(final)) {
      const entries = await readdir(final);
      const isLayout = entries.includes('oci-layout');
      if (!isLayout && entries.length > 0) {
        throw new LayerwiseError('DESTINATION_EXISTS', `${dir}: exists and is not an OCI layout`, { subject: dir });
      }
      await mkdir(path.join(final, 'blobs', 'sha256'), { recursive: true });
      // Temporaries of a run that was killed (blobs being written, an index.json not yet renamed).
      await cleanDeadTemps(path.join(final, 'blobs', 'sha256'));
      await cleanDeadTemps(final);
      return new DirectoryBackend(dir, final, final, false);
    }
    const tmp = tempSibling(final);
    await mkdir(path.join(tmp, 'blobs', 'sha256'), { recursive: true });
    return new DirectoryBackend(dir, final, tmp, true);
  }

  private blobFile(d: Digest): string {
    return path.join(this.root, 'blobs', 'sha256', digestHex(d));
  }

  async hasBlob(digest: Digest): Promise<boolean> {
    return exists(this.blobFile(digest));
  }

  private async place(tmp: string, digest: Digest): Promise<void> {
    const dest = this.blobFile(digest);
    if (await exists(dest)) {
      await rm(tmp, { force: true });
      return;
    }
    await rename(tmp, dest);
    this.created.push(dest);
  }

  private tempBlob(): string {
    return path.join(this.root, 'blobs', 'sha256', `.lw-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  }

  async putBlob(bytes: Buffer): Promise<Digest> {
    const digest = sha256(bytes);
    if (await this.hasBlob(digest)) return digest;
    const tmp = this.tempBlob();
    await writeFile(tmp, bytes, { flag: 'wx' });
    await fsyncPath(tmp);
    await this.place(tmp, digest);
    return digest;
  }

  async putBlobStream(stream: Readable, expect?: BlobExpectation): Promise<{ digest: Digest; size: number }> {
    if (expect?.digest && (await this.hasBlob(expect.digest))) {
      const s = await stat(this.blobFile(expect.digest));
      if (expect.size === undefined || s.size === expect.size) {
        stream.destroy();
        return { digest: expect.digest, size: s.size };
      }
    }
    const tmp = this.tempBlob();
    const sink = await FileSink.create(tmp);
    const trusted = expect?.verified === true && expect.digest !== undefined && expect.size !== undefined;
    const hash = trusted ? undefined : new Sha256();
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        hash?.update(chunk);
        await sink.write(chunk);
      }
      await sink.finish();
      const got = hash ? { digest: hash.digest(), size: hash.bytes } : { digest: expect!.digest!, size: sink.written };
      verifyExpect(this.subject, got, expect);
      await this.place(tmp, got.digest);
      return got;
    } catch (err) {
      await sink.abort();
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async existingIndex(): Promise<Buffer | undefined> {
    if (this.fresh) return undefined;
    const p = path.join(this.root, 'index.json');
    if (!(await exists(p))) return undefined;
    const { readFile } = await import('node:fs/promises');
    return readFile(p);
  }

  async commit(indexJson: Buffer): Promise<void> {
    await fsyncDir(path.join(this.root, 'blobs', 'sha256'));
    const layoutFile = path.join(this.root, 'oci-layout');
    if (!(await exists(layoutFile))) {
      await writeFile(layoutFile, OCI_LAYOUT);
      await fsyncPath(layoutFile);
    }
    const indexTmp = path.join(this.root, `.index.json.lw-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    await writeFile(indexTmp, indexJson, { flag: 'wx' });
    await fsyncPath(indexTmp);
    await rename(indexTmp, path.join(this.root, 'index.json'));
    await fsyncDir(this.root);
    if (this.fresh) {
      await rename(this.root, this.final);
      await fsyncDir(path.dirname(this.final));
    }
  }

  async abort(): Promise<void> {
    if (this.fresh) {
      await rm(this.root, { recursive: true, force: true });
      return;
    }
    for (const f of this.created) await rm(f, { force: true });
    const dir = path.join(this.root, 'blobs', 'sha256');
    for (const n of await readdir(dir).catch(() => [] as string[])) {
      if (n.startsWith(`.lw-tmp-${process.pid}-`)) await rm(path.join(dir, n), { force: true });
    }
  }
}

/** An oci-archive: the layout streamed into a tar under a temporary name, renamed into place on commit. */
export class TarBackend implements LayoutBackend {
  private readonly written = new Set<Digest>();
  private constructor(readonly subject: string, private readonly final: string, private readonly tmp: string, private readonly w: TarFileWriter) {}

  static async open(file: string): Promise<TarBackend> {
    const final = path.resolve(file);
    await mkdir(path.dirname(final), { recursive: true });
    await cleanTempSiblings(final);
    const tmp = tempSibling(final);
    const w = await TarFileWriter.create(tmp);
    await w.addFile('oci-layout', OCI_LAYOUT);
    await w.addDir('blobs');
    await w.addDir('blobs/sha256');
    return new TarBackend(file, final, tmp, w);
  }

  async hasBlob(digest: Digest): Promise<boolean> {
    return this.written.has(digest);
  }

  async putBlob(bytes: Buffer): Promise<Digest> {
    const digest = sha256(bytes);
    if (this.written.has(digest)) return digest;
    await this.w.addFile(`blobs/sha256/${digestHex(digest)}`, bytes);
    this.written.add(digest);
    return digest;
  }

  async putBlobStream(stream: Readable, expect?: BlobExpectation): Promise<{ digest: Digest; size: number }> {
    if (!expect?.digest || expect.size === undefined) {
      // The name is the digest, unknown until the end: the member is written to a side file first.
      const side = `${this.tmp}.blob`;
      const fh = await open(side, 'wx');
      const hash = new Sha256();
      try {
        let pos = 0;
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          hash.update(chunk);
          await fh.write(chunk, 0, chunk.length, pos);
          pos += chunk.length;
        }
        await fh.close();
        const got = { digest: hash.digest(), size: hash.bytes };
        verifyExpect(this.subject, got, expect);
        if (!this.written.has(got.digest)) {
          const { createReadStream } = await import('node:fs');
          await this.w.addStream(`blobs/sha256/${digestHex(got.digest)}`, createReadStream(side, { highWaterMark: 1 << 20 }), got.size);
          this.written.add(got.digest);
        }
        return got;
      } finally {
        await fh.close().catch(() => {});
        await rm(side, { force: true });
      }
    }
    if (this.written.has(expect.digest)) {
      stream.destroy();
      return { digest: expect.digest, size: expect.size };
    }
    if (expect.verified) {
      // The stream checks its own digest; addStream checks the size.
      await this.w.addStream(`blobs/sha256/${digestHex(expect.digest)}`, stream, expect.size);
      this.written.add(expect.digest);
      return { digest: expect.digest, size: expect.size };
    }
    const hash = new Sha256();
    const hashing = (async function* () {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        hash.update(chunk);
        yield chunk;
      }
    })();
    const { Readable } = await import('node:stream');
    await this.w.addStream(`blobs/sha256/${digestHex(expect.digest)}`, Readable.from(hashing), expect.size);
    const got = { digest: hash.digest(), size: hash.bytes };
    verifyExpect(this.subject, got, expect);
    this.written.add(expect.digest);
    return got;
  }

  async existingIndex(): Promise<Buffer | undefined> {
    return undefined;
  }

  async commit(indexJson: Buffer): Promise<void> {
    await this.w.addFile('index.json', indexJson);
    await this.w.finish();
    await rename(this.tmp, this.final);
    await fsyncDir(path.dirname(this.final));
  }

  async abort(): Promise<void> {
    await this.w.abort();
    await rm(this.tmp, { force: true });
    await rm(`${this.tmp}.blob`, { force: true });
  }
}
