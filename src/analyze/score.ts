/**
 * The efficiency score: the share of stored file bytes that are not waste.
 *   efficiency = 1 - wastedBytes / storedBytes        (1 when the image stores no file bytes)
 * An image where no layer hides anything scores 1. Without ignore globs this equals
 * finalBytes / storedBytes. See docs/analyze.md.
 */
export function efficiencyScore(storedBytes: number, wastedBytes: number): number {
  if (storedBytes <= 0) return 1;
  return Math.max(0, Math.min(1, 1 - wastedBytes / storedBytes));
}

/** wastedBytes as a fraction of storedBytes (0..1). */
export function wastedFraction(storedBytes: number, wastedBytes: number): number {
  return storedBytes <= 0 ? 0 : wastedBytes / storedBytes;
}
