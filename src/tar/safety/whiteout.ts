export const WHITEOUT_PREFIX = '.wh.';
/** Marks its directory opaque: everything the layers below put there is hidden. */
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
/** AUFS bookkeeping names (.wh..wh.plnk, .wh..wh.aufs): never files of the image; appliers skip them. */
export const WHITEOUT_META_PREFIX = '.wh..wh.';

export type WhiteoutName =
  | { kind: 'none' }
  | { kind: 'opaque' }
  | { kind: 'meta' }
  | { kind: 'whiteout'; target: string }
  /** ".wh.", ".wh..", ".wh...": a whiteout of nothing, of its own directory, or of the parent. */
  | { kind: 'invalid'; target: string };

/** What the last component of a layer path says about deletions (OCI image spec, "Whiteouts"). */
export function classifyWhiteout(base: string): WhiteoutName {
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'none' };
  if (base === OPAQUE_WHITEOUT) return { kind: 'opaque' };
  if (base.startsWith(WHITEOUT_META_PREFIX)) return { kind: 'meta' };
  const target = base.slice(WHITEOUT_PREFIX.length);
  if (target === '' || target === '.' || target === '..') return { kind: 'invalid', target };
  return { kind: 'whiteout', target };
}
