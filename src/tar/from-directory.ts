import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { LayerwiseError, asLayerwiseError } from '../errors.js';
import { paddingFor } from './header.js';
import { encodeHeader, END_OF_ARCHIVE, type TarHeaderInput } from './writer.js';

export interface DirectoryTarOptions {
  /** Path prefix inside the tar, e.g. "backend_app" (no leading slash). */
  prefix?: string;
  /** mtime for every entry (seconds); default 0. Reproducible builds pass SOURCE_DATE_EPOCH. */
  mtime?: number;
  uid?: number;
  gid?: number;
  /** Return false to leave a path out (relative to the directory, '/'-separated). Directories left out are not walked. */
  include?: (relPath: string, isDir: boolean) => boolean;
  /** Emit entries for each parent directory of the prefix (e.g. "a/", "a/b/") before the content. */
  parents?: boolean;
  /** Extra entries to write before the directory's own (e.g. whiteouts); sorted together with the rest. */
  extra?: TarHeaderInput[];
  /** End with the two zero blocks (default true). */
  endMarker?: boolean;
}

export interface Item {
  name: string; // path inside the tar
  abs: string | undefined;
  header: TarHeaderInput;
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Lists a directory as tar entries, deterministically: sorted names, fixed mtime and ownership, symlinks
 * stored as links (never followed), files with several names stored once plus hardlinks.
 */
export async function listDirectoryEntries(root: string, opts: DirectoryTarOptions = {}): Promise<Item[]> {
  const prefix = (opts.prefix ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((p) => p === '..')) throw new LayerwiseError('TAR_PATH_UNSAFE', `destination ${JSON.stringify(opts.prefix)} climbs out of the image root`);
  const mtime = opts.mtime ?? 0;
  const uid = opts.uid ?? 0;
  const gid = opts.gid ?? 0;
  const items: Item[] = [];
  const inodes = new Map<string, string>();
  const join = (rel: string) => (prefix ? (rel ? `${prefix}/${rel}` : prefix) : rel);

  let rootStat;
  try {
    rootStat = await lstat(root);
  } catch (err) {
    throw asLayerwiseError(err, root);
  }
  if (opts.parents && prefix) {
    const parts = prefix.split('/');
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      items.push({ name: p + '/', abs: undefined, header: { path: p + '/', type: 'dir', mode: 0o755, uid, gid, mtime } });
    }
  }
  if (!rootStat.isDirectory()) {
    // A single file added under the destination name.
    const name = prefix || path.basename(root);
    items.push(await itemFor(root, name, rootStat));
    return items;
  }
  if (prefix) items.push({ name: prefix + '/', abs: root, header: { path: prefix + '/', type: 'dir', mode: rootStat.mode & 0o7777, uid, gid, mtime } });

  async function itemFor(abs: string, name: string, st: Awaited<ReturnType<typeof lstat>>): Promise<Item> {
    const mode = Number(st.mode) & 0o7777;
    const base = { uid, gid, mtime, mode };
    if (st.isDirectory()) return { name: name + '/', abs, header: { ...base, path: name + '/', type: 'dir' } };
    if (st.isSymbolicLink()) return { name, abs, header: { ...base, path: name, type: 'symlink', linkpath: await readlink(abs) } };
    if (st.isFile()) {
      if (Number(st.nlink) > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = inodes.get(key);
        if (first !== undefined) return { name, abs, header: { ...base, path: name, type: 'hardlink', linkpath: first } };
        inodes.set(key, name);
      }
      return { name, abs, header: { ...base, path: name, type: 'file', size: Number(st.size) } };
    }
    if (st.isFIFO()) return { name, abs, header: { ...base, path: name, type: 'fifo' } };
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      const rdev = Number(st.rdev);
      return { name, abs, header: { ...base, path: name, type: st.isCharacterDevice() ? 'char' : 'block', devmajor: (rdev >> 8) & 0xfff, devminor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) } };
    }
    throw new LayerwiseError('TAR_UNSUPPORTED_ENTRY', `${abs}: sockets cannot be stored in a layer`, { subject: abs });
  }

  async function walk(dirAbs: string, rel: string): Promise<void> {
    let names: string[];
    try {
      names = await readdir(dirAbs);
    } catch (err) {
      throw asLayerwiseError(err, dirAbs);
    }
    names.sort(compareNames);
    for (const n of names) {
      const abs = path.join(dirAbs, n);
      const childRel = rel ? `${rel}/${n}` : n;
      const st = await lstat(abs);
      if (st.isSocket()) continue;
      if (opts.include && !opts.include(childRel, st.isDirectory())) continue;
      items.push(await itemFor(abs, join(childRel), st));
      if (st.isDirectory()) await walk(abs, childRel);
    }
  }
  await walk(root, '');
  for (const e of opts.extra ?? []) items.push({ name: e.path, abs: undefined, header: e });
  // Hardlinks must follow their target; the walk order guarantees it, and extras are sorted in by name.
  if (opts.extra?.length) items.sort((a, b) => compareNames(a.name.replace(/\/$/, ''), b.name.replace(/\/$/, '')));
  return items;
}

/** Streams a directory as a tar archive (see listDirectoryEntries for what is deterministic). */
export async function* tarDirectory(root: string, opts: DirectoryTarOptions = {}): AsyncGenerator<Buffer> {
  yield* tarItems(await listDirectoryEntries(root, opts), opts.endMarker !== false);
}

/** Streams listed entries as a tar archive, reading file contents as it goes. */
export async function* tarItems(items: Item[], endMarker = true): AsyncGenerator<Buffer> {
  for (const item of items) {
    yield encodeHeader(item.header);
    if (item.header.type === 'file' && (item.header.size ?? 0) > 0) {
      const want = item.header.size!;
      let got = 0;
      for await (const chunk of createReadStream(item.abs!, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
        got += chunk.length;
        if (got > want) break;
        yield chunk;
      }
      if (got !== want) {
        throw new LayerwiseError('IO', `${item.abs}: changed size while being read (${want} -> ${got} bytes)`, { subject: item.abs });
      }
      const pad = paddingFor(want);
      if (pad) yield Buffer.alloc(pad);
    }
  }
  if (endMarker) yield END_OF_ARCHIVE;
}
