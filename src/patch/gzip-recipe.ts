import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import type { Layer } from '../model/image.js';
import { DigestingStream } from '../stream/verify.js';
import { peek } from '../stream/peek.js';
import type { BlobRecipe } from './format.js';

/**
 * Finds out whether a gzip blob can be rebuilt byte for byte at the site: it can when zlib at some level
 * made it (same header, same deflate stream). Blobs from Go's compress/gzip or pgzip (OS byte 255:
 * docker, buildkit, containerd, skopeo) use another deflate implementation and cannot; the site then
 * recompresses, keeping diffIDs and the image ID, and reports the changed digests.
 */
export async function gzipRecipe(layer: Layer): Promise<BlobRecipe> {
  const [head, rest] = await peek(await layer.compressed(), 10);
  rest.destroy();
  if (head.length < 10 || head[0] !== 0x1f || head[1] !== 0x8b || head[2] !== 8 || head[3] !== 0) return { kind: 'recompress', compression: 'gzip' };
  const mtime = head.readUInt32LE(4);
  const xfl = head[8]!;
  const os = head[9]!;
  if (os !== 3 || mtime !== 0) return { kind: 'recompress', compression: 'gzip' };
  const levels = xfl === 2 ? [9] : xfl === 4 ? [1] : [6, 5, 4, 3, 2, 7, 8];
  for (const level of levels) {
    const d = new DigestingStream();
    let size = 0;
    await pipeline(
      await layer.uncompressed(),
      createGzip({ level }),
      d,
      new Writable({
        write(c: Buffer, _e, cb) {
          size += c.length;
          cb();
        },
      }),
    );
    if (d.digest === layer.descriptor.digest && size === layer.descriptor.size) return { kind: 'gzip', level, header: head.toString('hex') };
  }
  return { kind: 'recompress', compression: 'gzip' };
}
