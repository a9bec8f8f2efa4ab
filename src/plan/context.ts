/**
 * A build context as `docker build` sees it, for the questions the planner asks: which files does a
 * COPY source pattern match (after `.dockerignore`), what is their content digest (so two services'
 * `COPY requirements.txt .` count as the same step only when the files are identical), which files
 * must be copied next to a generated base Dockerfile, and the text of small manifests the reorder
 * checks read. File contents are hashed as streams and never held; digests are memoised per file.
 * One simplification: a folder `.dockerignore` excludes is not entered, so an exception for a file
 * inside it (`!folder/keep`) is not honoured; such a COPY's content is then unknown or smaller, and
 * the step is not shared with a service that has the file.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import * as dockerignore from '@balena/dockerignore';
import { asLayerwiseError } from '../errors.js';

type IgnoreFactory = () => { add(p: string[]): { ignores(p: string): boolean } };
// A CommonJS module whose function is both module.exports and .default; take it either way.
const ignoreFactory: IgnoreFactory = ((dockerignore as unknown as { default: IgnoreFactory }).default ?? dockerignore) as IgnoreFactory;

/** Manifest files above this size are not read for the reorder checks (they are not manifests). */
export const SMALL_FILE_MAX = 1024 * 1024;

export interface ContextEntry {
  /** Path relative to the context root, forward slashes. */
  rel: string;
  kind: 'file' | 'dir' | 'symlink';
  size: number;
  mode: number;
}

/** What one COPY source pattern matched. */
export interface SourceMatch {
  pattern: string;
  /** Matched top-level paths (relative to the root), sorted; empty when nothing matched. */
  matches: ContextEntry[];
}

const isPattern = (s: string) => /[*?[]/.test(s);

/** Docker's filepath.Match for one path component: `*`, `?`, `[...]` (with `^` or `!` negation), `\` escapes. */
export function matchComponent(pattern: string, name: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) return false; // a malformed class matches nothing, as in Go
      let body = pattern.slice(i + 1, close);
      if (body.startsWith('^') || body.startsWith('!')) body = '^' + body.slice(1);
      re += '[' + body.replace(/\\/g, '\\\\') + ']';
      i = close;
    } else if (c === '\\' && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  try {
    return new RegExp(re + '$').test(name);
  } catch {
    return false;
  }
}

/** Cleans a COPY source the way Docker does: relative to the root, `.` and `..` folded; undefined if it leaves the context. */
export function cleanSource(source: string): string | undefined {
  const out: string[] = [];
  for (const part of source.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

export class BuildContext {
  private readonly digests = new Map<string, Promise<string>>();
  private ignore: { ignores(p: string): boolean } | undefined;
  private ready: Promise<void> | undefined;

  private constructor(readonly root: string) {}

  /** Opens a context folder; `.dockerignore` at its root applies. */
  static async open(root: string): Promise<BuildContext> {
    const ctx = new BuildContext(path.resolve(root));
    await ctx.load();
    return ctx;
  }

  private load(): Promise<void> {
    this.ready ??= (async () => {
      let text: string | undefined;
      try {
        text = await readFile(path.join(this.root, '.dockerignore'), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw asLayerwiseError(err, path.join(this.root, '.dockerignore'));
      }
      if (text !== undefined) {
        const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
        this.ignore = ignoreFactory().add(lines);
      }
    })();
    return this.ready;
  }

  /** Whether `.dockerignore` keeps a path (relative) out of the context. */
  ignored(rel: string): boolean {
    return rel !== '' && !!this.ignore?.ignores(rel);
  }

  private async entry(rel: string): Promise<ContextEntry | undefined> {
    if (this.ignored(rel)) return undefined;
    try {
      const st = await lstat(path.join(this.root, rel));
      const kind = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : undefined;
      if (!kind) return undefined;
      return { rel, kind, size: kind === 'file' ? st.size : 0, mode: st.mode & 0o7777 };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw asLayerwiseError(err, path.join(this.root, rel));
    }
  }

  /** Sorted children of a folder (relative paths), without ignored ones. */
  private async children(rel: string): Promise<ContextEntry[]> {
    let names: string[];
    try {
      names = await readdir(path.join(this.root, rel));
    } catch (err) {
      throw asLayerwiseError(err, path.join(this.root, rel));
    }
    names.sort();
    const out: ContextEntry[] = [];
    for (const n of names) {
      const e = await this.entry(rel ? `${rel}/${n}` : n);
      if (e) out.push(e);
    }
    return out;
  }

  /** The paths one COPY source matches: a plain path, or a pattern with wildcards in any component. */
  async match(source: string): Promise<SourceMatch> {
    const clean = cleanSource(source);
    if (clean === undefined) return { pattern: source, matches: [] };
    if (clean === '') {
      const root = await this.entry('');
      return { pattern: source, matches: root ? [{ ...root, rel: '' }] : [] };
    }
    const parts = clean.split('/');
    let current: ContextEntry[] = [{ rel: '', kind: 'dir', size: 0, mode: 0o755 }];
    for (const part of parts) {
      const next: ContextEntry[] = [];
      for (const c of current) {
        if (c.kind !== 'dir') continue;
        if (!isPattern(part)) {
          const e = await this.entry(c.rel ? `${c.rel}/${part}` : part);
          if (e) next.push(e);
        } else {
          for (const child of await this.children(c.rel)) {
            if (matchComponent(part, path.posix.basename(child.rel))) next.push(child);
          }
        }
      }
      current = next;
    }
    current.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
    return { pattern: source, matches: current };
  }

  /** Every file, folder and link under a matched path (itself included), sorted, ignored ones left out. */
  async walk(start: ContextEntry): Promise<ContextEntry[]> {
    const out: ContextEntry[] = [start];
    if (start.kind !== 'dir') return out;
    const stack = [start.rel];
    while (stack.length) {
      const dir = stack.pop()!;
      const kids = await this.children(dir);
      for (const k of kids) {
        out.push(k);
        if (k.kind === 'dir') stack.push(k.rel);
      }
    }
    return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  }

  /** sha256 of a file's bytes, streamed. */
  fileDigest(rel: string): Promise<string> {
    let d = this.digests.get(rel);
    if (!d) {
      d = new Promise<string>((resolve, reject) => {
        const h = createHash('sha256');
        const s = createReadStream(path.join(this.root, rel));
        s.on('data', (c) => h.update(c));
        s.on('error', (err) => reject(asLayerwiseError(err, path.join(this.root, rel))));
        s.on('end', () => resolve(h.digest('hex')));
      });
      this.digests.set(rel, d);
    }
    return d;
  }

  /**
   * A digest of what a COPY with these sources puts into the image: for each source, the names (relative
   * to what the source matched, as Docker lays them out), modes, link targets and file contents. Two
   * contexts give the same digest exactly when the COPY writes the same tree. Undefined when a source
   * matches nothing (the build would fail) or leaves the context.
   */
  async sourcesDigest(sources: readonly string[]): Promise<string | undefined> {
    const h = createHash('sha256');
    for (const src of sources) {
      const m = await this.match(src);
      if (m.matches.length === 0) return undefined;
      h.update(`source ${JSON.stringify(cleanSource(src))}\n`);
      for (const top of m.matches) {
        // A matched folder is copied by its contents; a matched file or link by its name.
        const base = top.kind === 'dir' ? top.rel : path.posix.dirname(top.rel) === '.' ? '' : path.posix.dirname(top.rel);
        for (const e of await this.walk(top)) {
          const name = base === '' ? e.rel : e.rel.slice(base.length + 1);
          if (e.kind === 'dir') h.update(`d ${JSON.stringify(name)} ${e.mode.toString(8)}\n`);
          else if (e.kind === 'symlink') h.update(`l ${JSON.stringify(name)} ${JSON.stringify(await readlink(path.join(this.root, e.rel)))}\n`);
          else h.update(`f ${JSON.stringify(name)} ${e.mode.toString(8)} ${await this.fileDigest(e.rel)}\n`);
        }
      }
    }
    return 'sha256:' + h.digest('hex');
  }

  /** The files and folders a COPY with these sources reads, for copying them next to a generated Dockerfile. */
  async sourceEntries(sources: readonly string[]): Promise<ContextEntry[]> {
    const seen = new Map<string, ContextEntry>();
    for (const src of sources) {
      for (const top of (await this.match(src)).matches) {
        for (const e of await this.walk(top)) if (e.rel !== '') seen.set(e.rel, e);
      }
    }
    return [...seen.values()].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  }

  /** Whether a relative path is in the context (present and not ignored). */
  async has(rel: string): Promise<boolean> {
    const clean = cleanSource(rel);
    return clean !== undefined && clean !== '' && (await this.entry(clean)) !== undefined;
  }

  /** Text of a small file in the context; undefined when absent, ignored or larger than SMALL_FILE_MAX. */
  async readSmall(rel: string): Promise<string | undefined> {
    const clean = cleanSource(rel);
    if (clean === undefined || clean === '') return undefined;
    const e = await this.entry(clean);
    if (!e || e.kind !== 'file' || e.size > SMALL_FILE_MAX) return undefined;
    return readFile(path.join(this.root, clean), 'utf8');
  }
}
