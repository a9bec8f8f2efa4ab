/** The path an entry occupies in the image filesystem, for matching entries across layers. */
export function entryKey(path: string): string {
  let p = path;
  while (p.startsWith('./')) p = p.slice(2);
  while (p.startsWith('/')) p = p.slice(1);
  while (p.endsWith('/') && p.length > 1) p = p.slice(0, -1);
  return p;
}

/** A name with digits removed, to pair versioned files (libfoo.so.1.2.3 <-> libfoo.so.1.2.4, app-1.0.js <-> app-1.1.js). */
export function nameShape(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.replace(/[0-9]+/g, '#');
}
