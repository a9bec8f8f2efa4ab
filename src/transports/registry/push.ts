import { Readable } from 'node:stream';
import { LayerwiseError } from '../../errors.js';
import { chain } from '../../image/blob-layer.js';
import type { Descriptor } from '../../model/descriptor.js';
import type { Digest } from '../../model/digest.js';
import type { Image } from '../../model/image.js';
import { manifestToBytes, type Manifest } from '../../model/manifest.js';
import { layerMediaType, manifestFamily, type Compression } from '../../model/media-types.js';
import type { Progress } from '../../progress.js';
import { compressStream } from '../../stream/compression.js';
import type { WriteResult } from '../oci-layout/write.js';
import type { RegistryClient } from './client.js';
import { mapLimit } from './parallel.js';
import { RegistryLayer } from './pull.js';
import type { UploadOutcome } from './upload.js';

export const DEFAULT_PARALLEL = 3;

export interface PushOptions {
  /** Recompress layers to this (new layer digests, same image ID); by default blobs go as they are. */
  compression?: Compression;
  /** Per-layer override of `compression` (e.g. a patch apply recompressing only layers it rebuilt). */
  layerCompression?: (index: number) => Compression | undefined;
  /** Layers uploaded at once (default 3). */
  parallel?: number;
  progress?: Progress;
}

export interface PushTarget {
  repository: string;
  tag?: string;
  digest?: Digest;
  raw: string;
}

function humanSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

export function checkParallel(parallel: number | undefined): number {
  const p = parallel ?? DEFAULT_PARALLEL;
  if (!Number.isInteger(p) || p < 1 || p > 64) throw new LayerwiseError('USAGE', `--parallel ${parallel}: want a whole number from 1 to 64`);
  return p;
}

/**
 * Pushes an image: config first, then the layers (in parallel, each skipped when present, mounted when
 * it comes from another repository of this registry, uploaded otherwise), then the manifest last, with
 * its original bytes and media type so its digest is kept. Until the manifest lands nothing is tagged,
 * so a failed push leaves no half image behind a name.
 */
export async function pushImage(client: RegistryClient, image: Image, target: PushTarget, opts: PushOptions = {}): Promise<WriteResult> {
  const parallel = checkParallel(opts.parallel);
  const repo = target.repository;
  const progress = opts.progress;
  const wanted = image.layers.map((l, i) => opts.layerCompression?.(i) ?? opts.compression);
  const recompress = image.layers.map((l, i) => wanted[i] !== undefined && wanted[i] !== l.compression);
  const anyRecompressed = recompress.some(Boolean);
  if (target.digest && !anyRecompressed && target.digest !== image.digest) {
    throw new LayerwiseError('USAGE', `${target.raw}: the image's manifest digest is ${image.digest}; push it by tag or by that digest`);
  }
  if (client.insecureRemote) progress?.note(`warning: ${client.registry} is not loopback and --insecure allows plain HTTP and unverified TLS to it`);

  const total = image.configBytes.length + image.layers.reduce((s, l) => s + l.descriptor.size, 0);
  progress?.start(`push ${client.registry}/${repo}`, total);
  const counts = { uploaded: 0, present: 0, mounted: 0, bytes: 0 };
  const account = (o: UploadOutcome, size: number) => {
    counts[o.how]++;
    if (o.how !== 'uploaded') progress?.advance(size);
  };
  const onBytes = (n: number) => {
    counts.bytes += n;
    progress?.advance(n);
  };

  const configBytes = image.configBytes;
  account(await client.putBlob(repo, { digest: image.id, size: configBytes.length, open: async () => Readable.from([configBytes]) }, { onBytes }), configBytes.length);

  const family = manifestFamily(image.mediaType);
  const changed: WriteResult['changed'] = [];
  // An image may list the same blob twice (an empty layer repeated): upload it once.
  const sameBlob = new Map<Digest, Promise<void>>();
  const descriptors = await mapLimit(image.layers, parallel, async (layer, i): Promise<Descriptor> => {
    const d = layer.descriptor;
    if (!recompress[i]) {
      const earlier = sameBlob.get(d.digest);
      if (earlier) {
        await earlier;
        progress?.advance(d.size);
        return d;
      }
      const home = layer instanceof RegistryLayer ? layer.home : undefined;
      const mountFrom = home && home.registry === client.registry && home.repository !== repo ? home.repository : undefined;
      const done = client.putBlob(repo, { digest: d.digest, size: d.size, open: () => layer.compressed() }, { mountFrom, onBytes }).then((o) => account(o, d.size));
      sameBlob.set(d.digest, done);
      await done;
      return d;
    }
    const want = wanted[i]!;
    const out = await client.putBlob(repo, { open: async () => chain(await layer.uncompressed(), compressStream(want)) }, { onBytes });
    account(out, out.size);
    changed.push({ what: `layer ${i}`, from: d.digest, to: out.digest });
    const { urls: _u, ...rest } = d;
    return { ...rest, mediaType: layerMediaType(family, want), digest: out.digest, size: out.size };
  });

  let manifestBytes = image.manifestBytes;
  if (anyRecompressed) {
    const manifest: Manifest = { ...image.manifest, layers: descriptors };
    manifestBytes = manifestToBytes(manifest);
  }
  const digest = await client.putManifest(repo, target.digest ?? target.tag ?? 'latest', manifestBytes, image.mediaType);
  if (digest !== image.digest) changed.push({ what: 'manifest', from: image.digest, to: digest });
  progress?.done();
  const parts = [`${counts.uploaded} blob(s) uploaded (${humanSize(counts.bytes)})`];
  if (counts.present) parts.push(`${counts.present} already present`);
  if (counts.mounted) parts.push(`${counts.mounted} mounted`);
  progress?.note(`pushed ${client.registry}/${repo}@${digest}: ${parts.join(', ')}`);
  return { reference: target.raw, manifestDigest: digest, imageId: image.id, changed };
}
