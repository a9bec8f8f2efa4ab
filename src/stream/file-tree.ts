import { open, stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { LayerwiseError, asLayerwiseError } from '../errors.js';
import { MAX_JSON_BYTES } from '../model/json.js';
import { FileWindow, type RandomAccess } from './random-access.js';
import { indexTarFile, type TarIndex } from '../tar/index-file.js';

/**
 * Named files, read without extracting anything: a directory on disk, or the members of an
 * uncompressed tar archive located in place. Image layouts (OCI, docker-archive) read through this.
 */
export interface FileTree {
  readonly subject: string;
  size(name: string): Promise<number | undefined>;
  readFile(name: string, maxBytes?: number): Promise<Buffer>;
  open(name: string): Promise<RandomAccess>;
  names(): Promise<string[]>;
  close(): Promise<void>;
}

/** Refuses names that could leave the tree; names come from manifests we do not trust. */
export function checkTreeName(name: string, subject: string): string {
  const n = name.replace(/^\.\//, '');
  if (n.length === 0 || n.startsWith('/') || n.includes('\\') || n.includes('\0') || n.split('/').some((p) => p === '..' || p === '.' || p === '')) {
    throw new LayerwiseError('TAR_PATH_UNSAFE', `${subject}: unsafe file name ${JSON.stringify(name)}`, { subject });
  }
  return n;
}

export class DirectoryTree implements FileTree {
  constructor(readonly root: string) {}

  get subject(): string {
    return this.root;
  }

  private resolve(name: string): string {
    return path.join(this.root, checkTreeName(name, this.root));
  }

  async size(name: string): Promise<number | undefined> {
    try {
      const s = await stat(this.resolve(name));
      return s.isFile() ? s.size : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw asLayerwiseError(err, path.join(this.root, name));
    }
  }

  async readFile(name: string, maxBytes = MAX_JSON_BYTES): Promise<Buffer> {
    const p = this.resolve(name);
    const s = await this.size(name);
    if (s === undefined) throw new LayerwiseError('BLOB_MISSING', `${p}: missing`, { subject: p });
    if (s > maxBytes) throw new LayerwiseError('JSON_TOO_LARGE', `${p}: ${s} bytes is over the ${maxBytes}-byte limit`, { subject: p });
    return readFile(p);
  }

  async open(name: string): Promise<RandomAccess> {
    const p = this.resolve(name);
    try {
      const fh = await open(p, 'r');
      const st = await fh.stat();
      return new FileWindow(fh, 0, st.size, p, true);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new LayerwiseError('BLOB_MISSING', `${p}: missing`, { subject: p });
      throw asLayerwiseError(err, p);
    }
  }

  async names(): Promise<string[]> {
    return [];
  }

  async close(): Promise<void> {}
}

/** The members of an uncompressed tar file, found by one pass over its headers (data is skipped, not read). */
export class TarTree implements FileTree {
  private constructor(readonly subject: string, private readonly file: string, private readonly index: TarIndex) {}

  static async open(file: string): Promise<TarTree> {
    const index = await indexTarFile(file);
    return new TarTree(file, file, index);
  }

  private member(name: string) {
    // Names come from manifest.json, which we do not trust: "../x" is refused, not merely missing.
    return this.index.members.get(checkTreeName(name, this.subject));
  }

  async size(name: string): Promise<number | undefined> {
    const m = this.member(name);
    return m && m.type === 'file' ? m.size : undefined;
  }

  async readFile(name: string, maxBytes = MAX_JSON_BYTES): Promise<Buffer> {
    const m = this.member(name);
    if (!m || m.type !== 'file') throw new LayerwiseError('BLOB_MISSING', `${this.subject}: ${name} is missing from the archive`, { subject: this.subject });
    if (m.size > maxBytes) throw new LayerwiseError('JSON_TOO_LARGE', `${this.subject}: ${name} is ${m.size} bytes, over the ${maxBytes}-byte limit`, { subject: this.subject });
    const w = await FileWindow.open(this.file, m.dataOffset, m.size);
    try {
      return await w.read(0, m.size);
    } finally {
      await w.close();
    }
  }

  async open(name: string): Promise<RandomAccess> {
    const m = this.member(name);
    if (!m || m.type !== 'file') throw new LayerwiseError('BLOB_MISSING', `${this.subject}: ${name} is missing from the archive`, { subject: this.subject });
    return FileWindow.open(this.file, m.dataOffset, m.size);
  }

  async names(): Promise<string[]> {
    return [...this.index.members.keys()];
  }

  async close(): Promise<void> {}
}
