import type { Image } from '../model/image.js';
import { openImage, writeImage, type OpenOptions, type WriteOptions, type WriteResult } from '../transports/index.js';

export interface CopyResult extends WriteResult {
  source: string;
  sourceManifestDigest: string;
}

/** Copies an image between any two transports; every blob is verified on the way. */
export async function copyImage(src: string, dst: string, opts: { open?: OpenOptions; write?: WriteOptions } = {}): Promise<CopyResult> {
  const image: Image = await openImage(src, opts.open);
  try {
    const result = await writeImage(image, dst, { ...opts.write, names: [...(opts.write?.names ?? [])] });
    return { ...result, source: src, sourceManifestDigest: image.digest };
  } finally {
    await image.close();
  }
}
