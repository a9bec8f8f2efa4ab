import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { RandomAccess } from '../stream/random-access.js';
import { indexTarEntries } from '../tar/index-random.js';
import { archiveKind, forEachMember, MAX_ARCHIVE, type ArchiveKind } from './archives.js';
import { contentHasher, initContentHash } from './content-hash.js';
import { isLayerwiseError } from '../errors.js';

export const ARCHIVE_KINDS: ArchiveKind[] = ['deb', 'tar.gz', 'tar.xz', 'tar.zst', 'tar'];

/** A member of an archive in the same layer: which archive entry, which regular file in it. */
export interface MemberRef {
  archive: number;
  member: number;
}

/** The archives of one new layer whose content the site lacks, and the content keys of their members. */
export class ArchiveIndex {
  readonly archives = new Map<number, ArchiveKind>();
  readonly byKey = new Map<string, MemberRef>();
  /** Content key of each archive itself. */
  readonly archiveKeys = new Map<number, string>();

  get size(): number {
    return this.archives.size;
  }

  /** Lists an archive's members by content key (first occurrence wins). */
  async add(entryIndex: number, kind: ArchiveKind, bytes: Buffer, subject: string, archiveKey?: string): Promise<void> {
    await initContentHash();
    if (archiveKey) this.archiveKeys.set(entryIndex, archiveKey);
    const keys: [string, MemberRef][] = [];
    let hasher = contentHasher();
    let current = -1;
    try {
      await forEachMember(bytes, kind, subject, {
        start: (i) => {
          current = i;
          hasher = contentHasher();
        },
        data: (c) => hasher.update(c),
        end: () => keys.push([hasher.key(), { archive: entryIndex, member: current }]),
      });
    } catch (err) {
      // An archive we cannot unpack is simply not used as a source.
      if (isLayerwiseError(err)) return;
      throw err;
    }
    this.archives.set(entryIndex, kind);
    for (const [k, ref] of keys) if (!this.byKey.has(k)) this.byKey.set(k, ref);
  }

  /** The same index without archives whose content the site already has. */
  without(known: (contentKey: string) => boolean): ArchiveIndex {
    const out = new ArchiveIndex();
    for (const [i, kind] of this.archives) {
      const k = this.archiveKeys.get(i);
      if (k && known(k)) continue;
      out.archives.set(i, kind);
      if (k) out.archiveKeys.set(i, k);
    }
    for (const [k, ref] of this.byKey) if (out.archives.has(ref.archive)) out.byKey.set(k, ref);
    return out;
  }
}

/**
 * Finds archives in a new layer stored uncompressed on disk, reading only headers and the archives
 * themselves. Archives whose content the site already has (`known`) are skipped: their members could
 * come from the site only if the base had them unpacked too.
 */
export async function discoverArchives(ra: RandomAccess, subject: string, known: (contentKey: string) => boolean): Promise<ArchiveIndex> {
  const index = new ArchiveIndex();
  await initContentHash();
  const entries = await indexTarEntries(ra, subject);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.type !== 'file' || e.size < 64 || e.size > MAX_ARCHIVE) continue;
    const head = await ra.read(e.dataOffset, 8);
    const kind = archiveKind(e.path, head);
    if (!kind) continue;
    const bytes = await ra.read(e.dataOffset, e.size);
    const h = contentHasher();
    h.update(bytes);
    if (known(h.key())) continue;
    await index.add(i, kind, bytes, `${subject}: ${e.path}`, h.key());
  }
  return index;
}

/**
 * The unpacked members of the archives a layer section uses, in a temporary file, for the decoder.
 */
export class MemberStore {
  private readonly file: string;
  private readonly fd: number;
  private pos = 0;
  private readonly offsets = new Map<number, { offset: number; size: number }[]>();

  constructor(dir: string) {
    this.file = path.join(dir, `.members-${process.pid}-${randomBytes(4).toString('hex')}`);
    this.fd = openSync(this.file, 'w+');
  }

  private readonly raw = new Map<number, { offset: number; size: number }>();

  /** Keeps an archive's own bytes (to write it at its place in the layer) and unpacks its members. */
  async unpack(entryIndex: number, kind: ArchiveKind, bytes: Buffer, subject: string): Promise<void> {
    writeSync(this.fd, bytes, 0, bytes.length, this.pos);
    this.raw.set(entryIndex, { offset: this.pos, size: bytes.length });
    this.pos += bytes.length;
    const list: { offset: number; size: number }[] = [];
    await forEachMember(bytes, kind, subject, {
      start: (_i, size) => list.push({ offset: this.pos, size }),
      data: (c) => {
        writeSync(this.fd, c, 0, c.length, this.pos);
        this.pos += c.length;
      },
      end: () => {},
    });
    this.offsets.set(entryIndex, list);
  }

  archive(entryIndex: number): { offset: number; size: number } | undefined {
    return this.raw.get(entryIndex);
  }

  member(archive: number, member: number): { offset: number; size: number } | undefined {
    return this.offsets.get(archive)?.[member];
  }

  read(offset: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) done += readSync(this.fd, buf, done, length - done, offset + done);
    return buf;
  }

  dispose(): void {
    closeSync(this.fd);
    rmSync(this.file, { force: true });
  }
}
