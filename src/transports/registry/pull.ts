import type { Readable } from 'node:stream';
import { LayerwiseError } from '../../errors.js';
import { chain } from '../../image/blob-layer.js';
import { parseImageConfig } from '../../model/config.js';
import type { Descriptor, Platform } from '../../model/descriptor.js';
import { isDigest, type Digest } from '../../model/digest.js';
import type { Image, Layer } from '../../model/image.js';
import { parseManifestOrIndex, manifestMediaType, type Manifest } from '../../model/manifest.js';
import { isManifestMediaType, layerCompression, type Compression } from '../../model/media-types.js';
import { decompressStream } from '../../stream/compression.js';
import { VerifyingStream } from '../../stream/verify.js';
import { choosePlatform } from '../oci-layout/read.js';
import type { RegistryClient } from './client.js';
import { RegistryError } from './errors.js';

/** Where a layer lives, so a push to another repository of the same registry can mount it instead of copying. */
export interface BlobHome {
  registry: string;
  repository: string;
}

/**
 * A layer served by a registry. Its streams are verified like BlobLayer's: the blob against the
 * descriptor's digest and size (resuming dropped downloads without restarting the hash), the tar
 * against the diffID.
 */
export class RegistryLayer implements Layer {
  constructor(
    readonly descriptor: Descriptor,
    readonly diffId: Digest,
    readonly compression: Compression,
    readonly home: BlobHome,
    private readonly client: RegistryClient,
    private readonly subject: string,
  ) {}

  get uncompressedSize(): number | undefined {
    return this.compression === 'none' ? this.descriptor.size : undefined;
  }

  compressed(options: { verify?: boolean } = {}): Promise<Readable> {
    return this.client.getBlob(this.home.repository, this.descriptor, { verify: options.verify !== false, subject: this.subject });
  }

  async uncompressed(): Promise<Readable> {
    const blob = await this.compressed();
    if (this.compression === 'none' && this.descriptor.digest === this.diffId) return blob;
    const tar = decompressStream(blob, this.compression, this.subject);
    return chain(tar, new VerifyingStream({ digest: this.diffId, subject: `${this.subject} (uncompressed)`, mismatchCode: 'DIFFID_MISMATCH' }));
  }
}

interface Resolved {
  manifest: Manifest;
  bytes: Buffer;
  digest: Digest;
  mediaType: string;
}

/** Follows tag -> (index -> nested index ->) manifest, picking the platform and checking each digest on the way. */
async function resolveManifest(client: RegistryClient, repository: string, reference: string, platform: Platform | undefined, subject: string, expect?: Descriptor, depth = 0): Promise<Resolved> {
  if (depth > 4) throw new LayerwiseError('INDEX_INVALID', `${subject}: image indexes nested too deep`, { subject });
  const got = await client.getManifest(repository, reference);
  if (expect && got.bytes.length !== expect.size) {
    throw new LayerwiseError('SIZE_MISMATCH', `${subject}: manifest ${got.digest} is ${got.bytes.length} bytes, the index says ${expect.size}`, { subject });
  }
  const parsed = parseManifestOrIndex(got.bytes, `${subject}: ${got.digest}`, got.mediaType);
  if (parsed.kind === 'index') {
    const child = choosePlatform(parsed.index, platform, subject);
    return resolveManifest(client, repository, child.digest, platform, subject, child, depth + 1);
  }
  const mediaType = parsed.manifest.mediaType ?? (isManifestMediaType(got.mediaType) ? got.mediaType : manifestMediaType(parsed.manifest));
  return { manifest: parsed.manifest, bytes: got.bytes, digest: got.digest, mediaType };
}

/**
 * Registries answer MANIFEST_UNKNOWN both for a missing tag and (docker-registry) for a repository that
 * does not exist; the tag list tells them apart, and names the tags there are.
 */
async function explainMissing(client: RegistryClient, repository: string, reference: string, err: unknown): Promise<unknown> {
  if (!(err instanceof RegistryError) || err.code !== 'REGISTRY_NOT_FOUND' || err.registryCodes.includes('NAME_UNKNOWN')) return err;
  let tags: string[];
  try {
    tags = await client.listTags(repository);
  } catch (listErr) {
    if (listErr instanceof RegistryError && listErr.code === 'REGISTRY_NOT_FOUND') {
      return new RegistryError('REGISTRY_NOT_FOUND', `${client.registry}: repository "${repository}" not found`, { status: 404, registryCodes: [...listErr.registryCodes], subject: `${client.registry}/${repository}` });
    }
    return err;
  }
  if (tags.length === 0) {
    return new RegistryError('REGISTRY_NOT_FOUND', `${client.registry}: repository "${repository}" not found (it has no tags)`, { status: 404, subject: `${client.registry}/${repository}` });
  }
  if (isDigest(reference)) return err;
  const shown = tags.length > 10 ? `${tags.slice(0, 10).join(', ')}, … (${tags.length} in all)` : tags.join(', ');
  return new RegistryError('REGISTRY_NOT_FOUND', `${client.registry}/${repository}: tag "${reference}" not found (tags: ${shown})`, { status: 404, subject: `${client.registry}/${repository}` });
}

export interface PullOptions {
  platform?: Platform;
  /** Closes the client with the image (default true; false when the caller shares the client). */
  ownsClient?: boolean;
}

/**
 * Opens an image from a registry. Manifest and config are fetched and verified now; layers are fetched
 * when read, verified while streaming. close() releases the client's connections.
 */
export async function openRegistryImage(
  client: RegistryClient,
  ref: { registry: string; repository: string; tag?: string; digest?: Digest; raw: string },
  opts: PullOptions = {},
): Promise<Image> {
  const { repository } = ref;
  const subject = ref.raw;
  const reference = ref.digest ?? ref.tag ?? 'latest';
  const resolved = await resolveManifest(client, repository, reference, opts.platform, subject).catch(async (err: unknown) => {
    throw await explainMissing(client, repository, reference, err);
  });
  const { manifest } = resolved;
  const configBytes = await client.getBlobBytes(repository, manifest.config);
  const config = parseImageConfig(configBytes, `${subject}: config ${manifest.config.digest}`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new LayerwiseError('MANIFEST_INVALID', `${subject}: manifest lists ${manifest.layers.length} layers but the config has ${diffIds.length} diffIDs`, { subject });
  }
  const home = { registry: client.registry, repository };
  const layers: Layer[] = manifest.layers.map((d, i) => {
    const compression = layerCompression(d.mediaType);
    if (compression === undefined) {
      throw new LayerwiseError('MEDIA_TYPE_UNSUPPORTED', `${subject}: layer ${i} has unsupported media type ${d.mediaType}`, { subject });
    }
    return new RegistryLayer(d, diffIds[i]!, compression, home, client, `${subject}: layer ${i} (${d.digest})`);
  });
  let closed = false;
  return {
    reference: subject,
    manifest,
    manifestBytes: resolved.bytes,
    digest: resolved.digest,
    mediaType: resolved.mediaType,
    config,
    configBytes,
    id: manifest.config.digest,
    layers,
    names: ref.tag && !ref.digest ? [`${ref.registry}/${repository}:${ref.tag}`] : [],
    close: async () => {
      if (closed) return;
      closed = true;
      if (opts.ownsClient !== false) client.close();
    },
  };
}
