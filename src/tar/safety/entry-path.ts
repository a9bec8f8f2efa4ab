import { LayerwiseError, type ErrorCode } from '../../errors.js';

/** Deeper paths are refused (node-tar's default); real images stay far below. */
export const MAX_PATH_DEPTH = 1024;
/** Longer paths are refused: Linux cannot open them (PATH_MAX), and they only cost memory. */
export const MAX_PATH_BYTES = 4096;

export interface EntryPath {
  /** The path inside the layer root: no leading "./" or "/", no "." or empty components, no trailing "/". "" is the root. */
  key: string;
  parts: string[];
  /** The name ends in "." ("." or "a/."): it can only name a directory. */
  namesDirectory: boolean;
}

/** True when a name starts like a Windows drive ("C:x", "C:..\\x", "c:/x"), which Windows resolves outside any root. */
export function hasDrivePrefix(name: string): boolean {
  return /^[A-Za-z]:/.test(name);
}

/** True when some component is "..", with "\\" counted as a separator too (what Windows extractors do). */
export function climbs(name: string): boolean {
  return name.split(/[\\/]/).includes('..');
}

/**
 * Normalises an entry name (or a hardlink target) of a layer tar to the path it names inside the layer
 * root, refusing every name that could resolve outside it for some extractor: absolute ("/x", "////x"),
 * drive-relative ("C:..\\x"), any ".." component (also between backslashes), NUL, or absurd depth or
 * length. "./a", "a/" and "a//./" all name "a", so duplicates are found whatever the spelling.
 */
export function entryPath(raw: string, subject: string, code: ErrorCode = 'TAR_PATH_UNSAFE', what = 'name'): EntryPath {
  const refuse = (why: string): never => {
    const shown = JSON.stringify(raw.length > 200 ? `${raw.slice(0, 200)}…` : raw);
    throw new LayerwiseError(code, `${subject}: ${what} ${shown} ${why}`, { subject });
  };
  if (raw.includes('\0')) refuse('contains a NUL byte');
  if (raw.startsWith('/')) refuse('is an absolute path');
  if (hasDrivePrefix(raw)) refuse('starts with a Windows drive');
  if (climbs(raw)) refuse('climbs out with ".."');
  let n = raw;
  while (n.startsWith('./')) n = n.slice(2);
  const namesDirectory = n === '.' || n.endsWith('/.') || n.endsWith('/./');
  const parts = n.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length > MAX_PATH_DEPTH) refuse(`is ${parts.length} directories deep (limit ${MAX_PATH_DEPTH})`);
  const key = parts.join('/');
  if (Buffer.byteLength(key) > MAX_PATH_BYTES) refuse(`is longer than ${MAX_PATH_BYTES} bytes`);
  return { key, parts, namesDirectory };
}
