import { LayerwiseError } from '../../errors.js';
import { BlobLayer } from '../../image/blob-layer.js';
import { parseImageConfig } from '../../model/config.js';
import { hostPlatform, platformMatches, platformString, type Descriptor, type Platform } from '../../model/descriptor.js';
import { digestHex, sha256, type Digest } from '../../model/digest.js';
import type { Image, Layer } from '../../model/image.js';
import { parseJsonBytes } from '../../model/json.js';
import { parseIndex, parseManifestOrIndex, type ImageIndex, type Manifest } from '../../model/manifest.js';
import { isIndexMediaType, layerCompression, MediaType } from '../../model/media-types.js';
import type { FileTree } from '../../stream/file-tree.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';

export function blobPath(digest: Digest): string {
  return `blobs/sha256/${digestHex(digest)}`;
}

/** Reads a small blob (manifest, index, config) and checks its digest and size before parsing it. */
export async function readVerifiedBlob(tree: FileTree, desc: { digest: Digest; size?: number }, what: string): Promise<Buffer> {
  const name = blobPath(desc.digest);
  const size = await tree.size(name);
  if (size === undefined) {
    throw new LayerwiseError('BLOB_MISSING', `${tree.subject}: ${what} blob ${desc.digest} is missing`, { subject: tree.subject });
  }
  const bytes = await tree.readFile(name);
  const got = sha256(bytes);
  if (got !== desc.digest) {
    throw new LayerwiseError('DIGEST_MISMATCH', `${tree.subject}: ${what} blob ${desc.digest} has content ${got}`, { subject: tree.subject });
  }
  if (desc.size !== undefined && bytes.length !== desc.size) {
    throw new LayerwiseError('SIZE_MISMATCH', `${tree.subject}: ${what} blob ${desc.digest} is ${bytes.length} bytes, descriptor says ${desc.size}`, { subject: tree.subject });
  }
  return bytes;
}

export async function readLayoutIndex(tree: FileTree): Promise<ImageIndex> {
  const layoutSize = await tree.size('oci-layout');
  if (layoutSize === undefined) {
    throw new LayerwiseError('INDEX_INVALID', `${tree.subject}: not an OCI image layout (no oci-layout file)`, { subject: tree.subject });
  }
  const layout = parseJsonBytes(await tree.readFile('oci-layout', 4096), `${tree.subject}/oci-layout`, 'INDEX_INVALID') as { imageLayoutVersion?: unknown };
  if (!layout || typeof layout.imageLayoutVersion !== 'string' || !layout.imageLayoutVersion.startsWith('1.')) {
    throw new LayerwiseError('INDEX_INVALID', `${tree.subject}/oci-layout: unsupported imageLayoutVersion ${JSON.stringify(layout?.imageLayoutVersion)}`, { subject: tree.subject });
  }
  if ((await tree.size('index.json')) === undefined) {
    throw new LayerwiseError('INDEX_INVALID', `${tree.subject}: OCI layout has no index.json`, { subject: tree.subject });
  }
  return parseIndex(await tree.readFile('index.json'), `${tree.subject}/index.json`);
}

function refName(d: Descriptor): string | undefined {
  return d.annotations?.[REF_NAME];
}

/** Finds the descriptor for a tag, accepting a full containerd name ending in ":tag" too. */
function selectByTag(index: ImageIndex, tag: string | undefined, subject: string): Descriptor {
  const ms = index.manifests;
  if (tag === undefined || tag === '') {
    if (ms.length === 1) return ms[0]!;
    if (ms.length === 0) throw new LayerwiseError('IMAGE_NOT_FOUND', `${subject}: the layout holds no images`, { subject });
    const names = ms.map((m) => refName(m) ?? m.digest).join(', ');
    throw new LayerwiseError('IMAGE_AMBIGUOUS', `${subject}: holds ${ms.length} images (${names}); name one with :TAG`, { subject });
  }
  if (tag.startsWith('sha256:')) {
    const byDigest = ms.find((m) => m.digest === tag);
    if (byDigest) return byDigest;
  }
  const exact = ms.filter((m) => refName(m) === tag);
  if (exact.length >= 1) return exact[exact.length - 1]!;
  const loose = ms.filter((m) => {
    const n = m.annotations?.[CONTAINERD_NAME];
    return n !== undefined && (n === tag || n.endsWith(`:${tag}`));
  });
  if (loose.length >= 1) return loose[loose.length - 1]!;
  const tags = ms.map(refName).filter(Boolean).join(', ') || 'none';
  throw new LayerwiseError('IMAGE_NOT_FOUND', `${subject}: no image tagged ${JSON.stringify(tag)} (tags: ${tags})`, { subject });
}

/** Picks the platform's manifest from an index, or the only image manifest in it. */
export function choosePlatform(index: ImageIndex, platform: Platform | undefined, subject: string): Descriptor {
  const images = index.manifests.filter((m) => !isIndexMediaType(m.mediaType) && m.platform?.architecture !== 'unknown');
  const want = platform ?? hostPlatform();
  const match = images.find((m) => platformMatches(want, m.platform));
  if (match) return match;
  if (!platform && images.length === 1) return images[0]!;
  const have = images.map((m) => platformString(m.platform)).join(', ') || 'none';
  throw new LayerwiseError('PLATFORM_NOT_FOUND', `${subject}: no image for ${platformString(want)} (has: ${have}); choose with --platform`, { subject });
}

export interface ResolvedManifest {
  manifest: Manifest;
  manifestBytes: Buffer;
  descriptor: Descriptor;
}

/** Follows index -> (nested index ->) manifest, choosing a platform where there is a choice. */
export async function resolveManifest(tree: FileTree, desc: Descriptor, platform: Platform | undefined, subject: string, depth = 0): Promise<ResolvedManifest> {
  if (depth > 4) throw new LayerwiseError('INDEX_INVALID', `${subject}: image indexes nested too deep`, { subject });
  const bytes = await readVerifiedBlob(tree, desc, 'manifest');
  const parsed = parseManifestOrIndex(bytes, `${subject}: ${desc.digest}`, desc.mediaType);
  if (parsed.kind === 'index') {
    const child = choosePlatform(parsed.index, platform, subject);
    return resolveManifest(tree, child, platform, subject, depth + 1);
  }
  return { manifest: parsed.manifest, manifestBytes: bytes, descriptor: desc };
}

/** Builds an Image over blobs in a tree, checking up front that every blob is there with the right size. */
export async function imageFromManifest(
  tree: FileTree,
  resolved: ResolvedManifest,
  reference: string,
  names: string[],
  onClose: () => Promise<void>,
  blobName: (d: Digest) => string = blobPath,
): Promise<Image> {
  const { manifest, manifestBytes } = resolved;
  const configBytes = await readVerifiedBlob(tree, manifest.config, 'config');
  const config = parseImageConfig(configBytes, `${reference}: config ${manifest.config.digest}`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new LayerwiseError('MANIFEST_INVALID', `${reference}: manifest lists ${manifest.layers.length} layers but the config has ${diffIds.length} diffIDs`, { subject: reference });
  }
  const layers: Layer[] = [];
  for (let i = 0; i < manifest.layers.length; i++) {
    const d = manifest.layers[i]!;
    const compression = layerCompression(d.mediaType);
    if (compression === undefined) {
      throw new LayerwiseError('MEDIA_TYPE_UNSUPPORTED', `${reference}: layer ${i} has unsupported media type ${d.mediaType}`, { subject: reference });
    }
    const name = blobName(d.digest);
    const size = await tree.size(name);
    if (size === undefined) {
      throw new LayerwiseError('BLOB_MISSING', `${reference}: layer ${i} blob ${d.digest} is missing`, { subject: reference });
    }
    if (size !== d.size) {
      throw new LayerwiseError('SIZE_MISMATCH', `${reference}: layer ${i} blob ${d.digest} is ${size} bytes, manifest says ${d.size}`, { subject: reference });
    }
    layers.push(new BlobLayer(d, diffIds[i]!, compression, `${reference}: layer ${i} (${d.digest})`, () => tree.open(name)));
  }
  const mediaType = manifest.mediaType ?? (manifest.config.mediaType === MediaType.DockerConfig ? MediaType.DockerManifest : MediaType.OciManifest);
  let closed = false;
  return {
    reference,
    manifest,
    manifestBytes,
    digest: sha256(manifestBytes),
    mediaType,
    config,
    configBytes,
    id: manifest.config.digest,
    layers,
    names,
    close: async () => {
      if (closed) return;
      closed = true;
      await onClose();
    },
  };
}

export interface OciReadOptions {
  tag?: string;
  platform?: Platform;
}

/** Opens an image in an OCI layout held by `tree` (a directory or an oci-archive). */
export async function readOciLayout(tree: FileTree, reference: string, opts: OciReadOptions, onClose: () => Promise<void>): Promise<Image> {
  const index = await readLayoutIndex(tree);
  const desc = selectByTag(index, opts.tag, reference);
  const resolved = await resolveManifest(tree, desc, opts.platform, reference);
  const names = [refName(desc)].filter((n): n is string => !!n);
  return imageFromManifest(tree, resolved, reference, names, onClose);
}

/** Every tag in a layout, for listing. */
export async function listOciTags(tree: FileTree): Promise<{ tag: string | undefined; digest: Digest; mediaType: string }[]> {
  const index = await readLayoutIndex(tree);
  return index.manifests.map((m) => ({ tag: refName(m), digest: m.digest, mediaType: m.mediaType }));
}
