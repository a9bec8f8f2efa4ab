import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { LayerwiseError } from '../errors.js';
import type { EntryType } from './header.js';
import { readTar, TarParser, type TarEntry, type TarEvent, type TarReadOptions } from './reader.js';
import { climbs, entryPath, hasDrivePrefix } from './safety/entry-path.js';
import { foldName } from './safety/fold.js';
import { classifyWhiteout } from './safety/whiteout.js';

/** What the checks need of an entry: a parsed tar header, or an item about to be written. */
export interface LayerEntryInfo {
  path: string;
  linkpath: string;
  type: EntryType;
}

const WHITEOUT_TYPES: ReadonlySet<EntryType> = new Set(['file', 'contiguous', 'hardlink']);

/**
 * The path-level rules for the content of one layer tar, checked entry by entry in archive order. A
 * layer is refused (like containerd's applier and node-tar, by default) when some extractor could write
 * outside the root or two extractors could build different filesystems from it:
 *
 * - TAR_PATH_UNSAFE: absolute, drive-relative or climbing names; a non-directory named "." (the root);
 *   an entry below a non-directory entry of the same layer; unknown entry types (TAR_UNSUPPORTED_ENTRY).
 * - TAR_LINK_UNSAFE: an entry written through a symlink of the same layer (also when it is reached in
 *   another case or Unicode normalisation); a hardlink whose target climbs, is absolute, is not an
 *   earlier entry, is a directory or is reached through a symlink; a symlink with an empty or
 *   Windows-escaping ("C:..", "..\\") target. Absolute and "../" symlink targets are normal and allowed:
 *   they resolve inside the container.
 * - TAR_DUPLICATE_ENTRY: the same path twice ("./a" and "a"), except a directory repeated as a directory,
 *   and a non-directory where earlier entries put a directory.
 * - WHITEOUT_INVALID: ".wh.", ".wh..", ".wh..."; whiteouts that are not regular files; a whiteout after the
 *   entry it deletes, or an opaque marker after entries it would hide (the OCI spec wants them first; a
 *   naive applier would delete this layer's own files).
 *
 * setuid/setgid bits, devices and FIFOs are allowed: they are image content, preserved byte for byte, and
 * layerwise never creates anything from a layer on the host.
 */
export class LayerSafety {
  /** Path -> type of every entry so far. */
  private readonly entries = new Map<string, EntryType>();
  /** Directories that earlier non-whiteout entries are inside ("" for the root). */
  private readonly implied = new Set<string>();
  /** Folded paths of the symlinks so far. */
  private readonly symlinks = new Set<string>();
  count = 0;

  constructor(private readonly subject: string) {}

  check(e: LayerEntryInfo): void {
    const at = `${this.subject}: entry ${this.count++}`;
    const fail = (code: 'TAR_PATH_UNSAFE' | 'TAR_LINK_UNSAFE' | 'TAR_DUPLICATE_ENTRY' | 'WHITEOUT_INVALID' | 'TAR_UNSUPPORTED_ENTRY', why: string): never => {
      throw new LayerwiseError(code, `${at} ${JSON.stringify(e.path)}: ${why}`, { subject: this.subject });
    };
    const p = entryPath(e.path, at);
    if (e.type === 'unknown') fail('TAR_UNSUPPORTED_ENTRY', 'unknown entry type');
    if (p.key === '' || p.namesDirectory) {
      if (e.type !== 'dir') fail('TAR_PATH_UNSAFE', `a ${e.type} cannot name ${p.key === '' ? 'the layer root' : 'a directory with "."'}`);
      if (p.key === '') return;
    }
    this.checkParents(p.parts, fail);
    const base = p.parts[p.parts.length - 1]!;
    const parent = p.parts.slice(0, -1).join('/');
    const wh = classifyWhiteout(base);
    if (wh.kind === 'invalid') fail('WHITEOUT_INVALID', `a whiteout of ${JSON.stringify(wh.target)} deletes nothing or climbs out`);
    if ((wh.kind === 'whiteout' || wh.kind === 'opaque') && !WHITEOUT_TYPES.has(e.type)) fail('WHITEOUT_INVALID', `a whiteout must be a regular file, not a ${e.type}`);
    if (wh.kind === 'opaque' && this.implied.has(parent)) {
      fail('WHITEOUT_INVALID', `opaque whiteout after entries of this layer in ${JSON.stringify(parent || '/')}; it must come first`);
    }
    if (wh.kind === 'whiteout') {
      const target = parent ? `${parent}/${wh.target}` : wh.target;
      if (this.entries.has(target) || this.implied.has(target)) fail('WHITEOUT_INVALID', `whiteout after ${JSON.stringify(target)}, which this layer also writes; whiteouts must come first`);
    }
    const prev = this.entries.get(p.key);
    if (prev !== undefined && !(prev === 'dir' && e.type === 'dir')) fail('TAR_DUPLICATE_ENTRY', `the layer already has a ${prev} at ${JSON.stringify(p.key)}`);
    if (e.type !== 'dir' && this.implied.has(p.key)) fail('TAR_DUPLICATE_ENTRY', `earlier entries of this layer made ${JSON.stringify(p.key)} a directory`);
    if (e.type === 'symlink') this.checkSymlink(e.linkpath, fail);
    if (e.type === 'hardlink') this.checkHardlink(e.linkpath, p.key, at, fail);

    this.entries.set(p.key, e.type);
    if (e.type === 'symlink') this.symlinks.add(foldName(p.key));
    if (wh.kind === 'none') {
      this.implied.add('');
      let prefix = '';
      for (let i = 0; i < p.parts.length - 1; i++) {
        prefix = i === 0 ? p.parts[0]! : `${prefix}/${p.parts[i]}`;
        this.implied.add(prefix);
      }
    }
  }

  /** No entry may be written through a symlink, or below a file, that this layer put on its path. */
  private checkParents(parts: string[], fail: (code: 'TAR_PATH_UNSAFE' | 'TAR_LINK_UNSAFE', why: string) => never): void {
    let prefix = '';
    for (let i = 0; i < parts.length - 1; i++) {
      prefix = i === 0 ? parts[0]! : `${prefix}/${parts[i]}`;
      if (this.symlinks.has(foldName(prefix))) fail('TAR_LINK_UNSAFE', `written through ${JSON.stringify(prefix)}, a symlink of this layer`);
      const t = this.entries.get(prefix);
      if (t !== undefined && t !== 'dir') fail('TAR_PATH_UNSAFE', `below ${JSON.stringify(prefix)}, a ${t} of this layer`);
    }
  }

  private checkSymlink(target: string, fail: (code: 'TAR_LINK_UNSAFE', why: string) => never): void {
    if (target === '') fail('TAR_LINK_UNSAFE', 'symlink without a target');
    if (hasDrivePrefix(target)) fail('TAR_LINK_UNSAFE', `symlink to ${JSON.stringify(target)}, a Windows drive path`);
    if (target.includes('\\') && climbs(target)) fail('TAR_LINK_UNSAFE', `symlink to ${JSON.stringify(target)} climbs with "..\\"`);
  }

  private checkHardlink(linkpath: string, key: string, at: string, fail: (code: 'TAR_LINK_UNSAFE', why: string) => never): void {
    const t = entryPath(linkpath, at, 'TAR_LINK_UNSAFE', 'hardlink target');
    if (t.key === '') fail('TAR_LINK_UNSAFE', 'hardlink to the layer root');
    if (t.key === key) fail('TAR_LINK_UNSAFE', 'hardlink to itself');
    let prefix = '';
    for (let i = 0; i < t.parts.length - 1; i++) {
      prefix = i === 0 ? t.parts[0]! : `${prefix}/${t.parts[i]}`;
      if (this.symlinks.has(foldName(prefix))) fail('TAR_LINK_UNSAFE', `hardlink target ${JSON.stringify(t.key)} is reached through the symlink ${JSON.stringify(prefix)}`);
    }
    const type = this.entries.get(t.key);
    if (type === undefined) fail('TAR_LINK_UNSAFE', `hardlink to ${JSON.stringify(t.key)}, which is not an earlier entry of this layer`);
    if (type === 'dir') fail('TAR_LINK_UNSAFE', `hardlink to the directory ${JSON.stringify(t.key)}`);
  }
}

/** Reads a layer tar as events, refusing it at the first entry that breaks a LayerSafety rule. */
export async function* readLayerTar(stream: Readable | AsyncIterable<Buffer>, opts: TarReadOptions): AsyncGenerator<TarEvent> {
  const safety = new LayerSafety(opts.subject);
  for await (const ev of readTar(stream, opts)) {
    if (ev.kind === 'entry') safety.check(ev.entry);
    yield ev;
  }
}

/** Checks entries already parsed (e.g. indexed by seeking) in archive order. */
export function checkLayerEntries(entries: readonly TarEntry[], subject: string): void {
  const safety = new LayerSafety(subject);
  for (const e of entries) safety.check(e);
}

/**
 * A pass-through that parses the layer tar flowing through it and fails the stream at the first unsafe
 * entry (or malformed header), for streams that are written somewhere rather than parsed.
 */
export class LayerSafetyStream extends Transform {
  private readonly parser: TarParser;
  private readonly safety: LayerSafety;
  private readonly events: TarEvent[] = [];

  constructor(subject: string) {
    super();
    this.parser = new TarParser({ subject });
    this.safety = new LayerSafety(subject);
  }

  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    try {
      this.events.length = 0;
      for (const ev of this.parser.write(chunk, this.events)) if (ev.kind === 'entry') this.safety.check(ev.entry);
      cb(null, chunk);
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.events.length = 0;
      this.parser.end(this.events);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
}
