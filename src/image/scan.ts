import type { Readable } from 'node:stream';
import type { Digest } from '../model/digest.js';
import type { Image, Layer } from '../model/image.js';

/**
 * Visits each wanted layer of an image once (by diffID) with its verified tar stream. Sources that can
 * only stream do it in one pass, in their own order; others go layer by layer, in image order.
 */
export async function scanLayers(image: Image, visit: (layer: Layer, tar: Readable) => Promise<void>, wanted?: ReadonlySet<Digest>): Promise<void> {
  if (image.scanLayers) return image.scanLayers(visit, wanted);
  const seen = new Set<Digest>();
  for (const l of image.layers) {
    if (seen.has(l.diffId) || (wanted && !wanted.has(l.diffId))) continue;
    seen.add(l.diffId);
    await visit(l, await l.uncompressed());
  }
}
