/**
 * What COPY/ADD take from the build context, and the reverse: which context file ends up at a path
 * in the image (so `pip install -r /app/requirements.txt` can be checked against the context's
 * requirements.txt). Docker semantics: sources are relative to the context root (a leading / too),
 * globs follow Go's filepath.Match (`*` does not cross `/`), a directory source copies its contents.
 */
import path from 'node:path';
import type { Instruction } from '../dockerfile/model.js';
import type { BuildContext } from './context.js';

/** COPY/ADD that read the build context (not --from, not heredocs). */
export function isContextCopy(ins: Instruction): boolean {
  return (ins.keyword === 'COPY' || ins.keyword === 'ADD') && !!ins.copy && ins.copy.from === undefined && !ins.copy.heredoc;
}

/** A source normalised to a context-relative path: '' for the whole context. */
export function normaliseSource(s: string): string {
  let p = path.posix.normalize(s.replace(/\\/g, '/'));
  p = p.replace(/^\/+/, '').replace(/\/+$/, '');
  return p === '.' ? '' : p;
}

const GLOB = /[*?[]/;

function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, close);
        if (body.startsWith('^') || body.startsWith('!')) body = '^' + body.slice(1);
        re += '[' + body.replace(/\\/g, '\\\\') + ']';
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp('^' + re + '$');
}

export type Coverage = 'none' | 'explicit' | 'contained';

/**
 * How a COPY source covers a context path: 'explicit' when it names the path (or something inside
 * it), 'contained' when it copies a folder that contains the path (COPY . .), 'none' otherwise.
 */
export function coverage(source: string, item: string): Coverage {
  const s = normaliseSource(source);
  if (s === '') return 'contained';
  if (GLOB.test(s)) {
    const re = globRegExp(s);
    if (re.test(item)) return s.split('/').pop() === '*' ? 'contained' : 'explicit';
    const parts = item.split('/');
    for (let k = 1; k < parts.length; k++) if (re.test(parts.slice(0, k).join('/'))) return 'contained';
    return 'none';
  }
  if (s === item || s.startsWith(item + '/')) return 'explicit';
  if (item.startsWith(s + '/')) return 'contained';
  return 'none';
}

/** Whether a COPY source copies the whole context or a folder holding the project (`.`, `*`, `./`, `app/`). */
export function isBroadSource(source: string, context: BuildContext | undefined): boolean {
  const s = normaliseSource(source);
  if (s === '' || s === '*') return true;
  if (!context || GLOB.test(s)) return false;
  if (!context.dirs.has(s)) return false;
  // A folder counts as "the source" when it holds a dependency manifest (the project root).
  for (const m of context.manifests) if (path.posix.dirname(m) === s) return true;
  return false;
}

export function isBroadCopy(ins: Instruction, context: BuildContext | undefined): boolean {
  return isContextCopy(ins) && ins.copy!.sources.some((s) => isBroadSource(s, context));
}

/**
 * The context path that a COPY put at `imagePath`, searching `copies` from the last; undefined when
 * no COPY put anything there.
 */
export function contextPathFor(imagePath: string, copies: readonly Instruction[], context: BuildContext | undefined): string | undefined {
  for (let k = copies.length - 1; k >= 0; k--) {
    const ins = copies[k]!;
    if (!isContextCopy(ins)) continue;
    const spec = ins.copy!;
    const dest = path.posix.resolve(ins.workdir, spec.destination);
    // A destination is a folder when written so, or when it is the WORKDIR (which exists by then).
    const destIsDir = spec.destination.endsWith('/') || spec.destination === '.' || spec.sources.length > 1 || dest === ins.workdir;
    for (const src of spec.sources) {
      const s = normaliseSource(src);
      const srcIsDir = s === '' || src.endsWith('/') || (context?.dirs.has(s) ?? false);
      if (srcIsDir) {
        if (imagePath.startsWith(dest + '/') || dest === '/') {
          const rel = path.posix.relative(dest, imagePath);
          const candidate = s ? `${s}/${rel}` : rel;
          if (!context || context.manifests.has(candidate) || context.texts.has(candidate)) return candidate;
        }
        continue;
      }
      if (GLOB.test(s)) {
        const base = path.posix.basename(imagePath);
        if (path.posix.dirname(imagePath) === dest && globRegExp(path.posix.basename(s)).test(base)) {
          const dir = path.posix.dirname(s);
          return dir === '.' ? base : `${dir}/${base}`;
        }
        continue;
      }
      const target = destIsDir ? path.posix.join(dest, path.posix.basename(s)) : dest;
      if (target === imagePath) return s;
    }
  }
  return undefined;
}

/**
 * RUN --mount=type=bind (without from=) makes context files visible to that one RUN, like a COPY
 * that leaves no layer. Returned as COPY-shaped entries so contextPathFor can search them too.
 */
export function bindMountCopies(ins: Instruction): Instruction[] {
  if (ins.keyword !== 'RUN') return [];
  const out: Instruction[] = [];
  for (const f of ins.flags) {
    if (f.name !== 'mount' || f.options.type !== 'bind' || f.options.from !== undefined) continue;
    const target = f.options.target ?? f.options.dst ?? f.options.destination;
    if (!target) continue;
    const source = f.options.source ?? f.options.src ?? '.';
    out.push({ ...ins, keyword: 'COPY', copy: { sources: [source], destination: target, from: undefined, fromStage: undefined, heredoc: false } });
  }
  return out;
}
