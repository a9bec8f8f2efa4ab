/**
 * Paths inside an image, in one canonical form: relative to the root, no leading "./" or "/", no
 * trailing slash, no "." segments, ".." clamped at the root (as a container runtime would extract it).
 * The root itself is "".
 */
export function normalizeLayerPath(raw: string): string {
  if (!raw.includes('//') && !raw.includes('./') && !raw.startsWith('/') && !raw.endsWith('/') && raw !== '.' && !raw.endsWith('/.') && !raw.endsWith('/..') && raw !== '..') {
    return raw;
  }
  const out: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

/** The display form: "/usr/bin/x", "/" for the root. */
export function displayPath(p: string): string {
  return '/' + p;
}

export function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

export function baseName(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}

/** Whether `p` is `dir` or lies under it ("" is the root and contains everything). */
export function isUnder(p: string, dir: string): boolean {
  return dir === '' || p === dir || (p.startsWith(dir) && p.charCodeAt(dir.length) === 47);
}

/**
 * Compiles a glob over image paths: `*` and `?` stay within one segment, `**` spans segments, a
 * pattern that matches a directory also matches everything under it. Leading "/" is optional.
 */
export function compileGlob(pattern: string): (path: string) => boolean {
  const p = normalizeLayerPath(pattern.trim());
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') {
      if (p[i + 1] === '*') {
        i++;
        if (p[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const rx = new RegExp(`^${re}(?:/.*)?$`);
  return (path) => rx.test(path);
}

/** A predicate that is true when any of the globs matches. */
export function anyGlob(patterns: readonly string[]): ((path: string) => boolean) | undefined {
  if (patterns.length === 0) return undefined;
  const fns = patterns.map(compileGlob);
  return (path) => fns.some((f) => f(path));
}
