import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { layerMediaType } from '../model/media-types.js';
import type { Digest } from '../model/digest.js';
import { FileWindow } from '../stream/random-access.js';
import { DigestingStream } from '../stream/verify.js';
import { BlobLayer } from './blob-layer.js';

/**
 * A layer whose uncompressed tar is a file on disk (generated layers: `build --add`, benchmarks). Its
 * digest is hashed once here; reads are verified like any other blob layer.
 */
export async function layerFromTarFile(file: string, family: 'oci' | 'docker' = 'oci', knownDigest?: Digest): Promise<BlobLayer> {
  const size = (await stat(file)).size;
  let digest = knownDigest;
  if (!digest) {
    const d = new DigestingStream();
    for await (const _ of createReadStream(file, { highWaterMark: 1 << 20 }).pipe(d)) {
      // hashing
    }
    digest = d.digest;
  }
  return new BlobLayer({ mediaType: layerMediaType(family, 'none'), digest, size }, digest, 'none', file, () => FileWindow.open(file));
}
