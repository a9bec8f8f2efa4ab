import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LayerwiseError } from '../errors.js';
import { sha256, type Digest } from '../model/digest.js';
import { parseManifest, manifestToBytes, type Manifest } from '../model/manifest.js';
import { MediaType } from '../model/media-types.js';
import { DigestingStream } from '../stream/verify.js';
import { makeScratchDir } from '../stream/scratch.js';
import type { RegistryOptions } from '../transports/index.js';
import { parseReference } from '../transports/reference.js';
import { RegistryClient } from '../transports/registry/client.js';
import { clientOptions } from '../transports/registry/transport.js';
import { describePatch } from './inspect.js';

/**
 * Patches and bundles travel through registries as OCI artifacts (image-spec 1.1): a manifest with an
 * artifactType, the empty config, and the patch file as its one blob. Annotations name the target so
 * `crane manifest` or `skopeo inspect --raw` tell what an artifact rebuilds without downloading it.
 */
export const PATCH_ARTIFACT_TYPE = 'application/vnd.layerwise.patch.v1';
export const BUNDLE_ARTIFACT_TYPE = 'application/vnd.layerwise.bundle.v1';
export const PATCH_BLOB_TYPE = 'application/vnd.layerwise.patch.v1+lwp';
export const BUNDLE_BLOB_TYPE = 'application/vnd.layerwise.bundle.v1+lwb';
const EMPTY_CONFIG = Buffer.from('{}');

function registryRef(ref: string) {
  const r = parseReference(ref);
  if (r.transport !== 'docker') throw new LayerwiseError('USAGE', `${ref}: patches are pushed to and pulled from registries (docker://HOST/REPO:TAG)`);
  return r;
}

export interface PushedArtifact {
  reference: string;
  manifestDigest: Digest;
  blobDigest: Digest;
  bytes: number;
}

/** Pushes a patch or bundle file as an artifact; a blob the registry has is not sent again. */
export async function pushPatchArtifact(file: string, ref: string, registry: RegistryOptions = {}): Promise<PushedArtifact> {
  const r = registryRef(ref);
  const d = await describePatch(file);
  const size = (await stat(file)).size;
  const digester = new DigestingStream();
  await pipeline(createReadStream(file), digester, async function* (src) {
    for await (const _ of src) {
      // hashing only
    }
  });
  const blobDigest = digester.digest;
  const bundle = d.header.kind === 'bundle';
  const client = await RegistryClient.create(r.registry, clientOptions(registry));
  try {
    await client.putBlob(r.repository, { digest: sha256(EMPTY_CONFIG), size: 2, open: async () => Readable.from([EMPTY_CONFIG]) });
    await client.putBlob(r.repository, { digest: blobDigest, size, open: async () => createReadStream(file, { highWaterMark: 1 << 20 }) });
    const annotations: Record<string, string> = {
      'org.opencontainers.image.created': d.header.created,
      'io.layerwise.format-version': String(d.header.version),
      'io.layerwise.targets': d.header.targets.map((t) => t.names[0] ?? t.imageId).join(','),
      'io.layerwise.target.image-ids': d.header.targets.map((t) => t.imageId).join(','),
      'io.layerwise.requires.layers': String(d.needs.layers.length),
    };
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType: bundle ? BUNDLE_ARTIFACT_TYPE : PATCH_ARTIFACT_TYPE,
      config: { mediaType: MediaType.OciEmpty, digest: sha256(EMPTY_CONFIG), size: 2, data: EMPTY_CONFIG.toString('base64') },
      layers: [{ mediaType: bundle ? BUNDLE_BLOB_TYPE : PATCH_BLOB_TYPE, digest: blobDigest, size, annotations: { 'org.opencontainers.image.title': path.basename(file) } }],
      annotations,
    };
    const bytes = manifestToBytes(manifest);
    const manifestDigest = await client.putManifest(r.repository, r.digest ?? r.tag ?? 'latest', bytes, MediaType.OciManifest);
    return { reference: ref, manifestDigest, blobDigest, bytes: size };
  } finally {
    client.close();
  }
}

export interface FetchedPatch {
  file: string;
  dispose(): Promise<void>;
}

/** Downloads a patch or bundle artifact to a temporary file (its digest verified) for apply, inspect or verify. */
export async function fetchPatchArtifact(ref: string, registry: RegistryOptions = {}): Promise<FetchedPatch> {
  const r = registryRef(ref);
  const client = await RegistryClient.create(r.registry, clientOptions(registry));
  const dir = await makeScratchDir('artifact');
  try {
    const fetched = await client.getManifest(r.repository, r.digest ?? r.tag ?? 'latest');
    const manifest = parseManifest(fetched.bytes, `${ref}: manifest`);
    const blob = manifest.layers[0];
    const known = [PATCH_ARTIFACT_TYPE, BUNDLE_ARTIFACT_TYPE];
    if (!known.includes(manifest.artifactType ?? '') || manifest.layers.length !== 1 || !blob || ![PATCH_BLOB_TYPE, BUNDLE_BLOB_TYPE].includes(blob.mediaType)) {
      throw new LayerwiseError('PATCH_INVALID', `${ref}: not a layerwise patch or bundle (artifactType ${JSON.stringify(manifest.artifactType ?? manifest.config.mediaType)})`, { subject: ref });
    }
    const file = path.join(dir, blob.mediaType === BUNDLE_BLOB_TYPE ? 'bundle.lwb' : 'patch.lwp');
    await pipeline(await client.getBlob(r.repository, blob, { subject: `${ref}: patch blob` }), createWriteStream(file));
    return { file, dispose: () => rm(dir, { recursive: true, force: true }) };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  } finally {
    client.close();
  }
}

/** Runs `work` on a local path for a patch given as a file or as docker://... */
export async function withLocalPatch<T>(patch: string, registry: RegistryOptions | undefined, work: (file: string) => Promise<T>): Promise<T> {
  if (!patch.startsWith('docker://')) return work(patch);
  const fetched = await fetchPatchArtifact(patch, registry);
  try {
    return await work(fetched.file);
  } finally {
    await fetched.dispose();
  }
}
