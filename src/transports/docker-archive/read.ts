import { LayerwiseError } from '../../errors.js';
import { BlobLayer } from '../../image/blob-layer.js';
import { parseImageConfig } from '../../model/config.js';
import type { Descriptor, Platform } from '../../model/descriptor.js';
import { sha256, type Digest } from '../../model/digest.js';
import type { Image, Layer } from '../../model/image.js';
import { parseJsonBytes } from '../../model/json.js';
import { manifestToBytes, type Manifest } from '../../model/manifest.js';
import { layerCompression, MediaType } from '../../model/media-types.js';
import { sniffCompression } from '../../stream/compression.js';
import { TarTree, type FileTree } from '../../stream/file-tree.js';
import { DigestingStream } from '../../stream/verify.js';
import { readLayoutIndex, resolveManifest } from '../oci-layout/read.js';
import { normalizeImageName, type ArchiveSelector } from '../reference.js';

/** One entry of a docker-archive's manifest.json. */
export interface ArchiveManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
  LayerSources?: Record<string, Descriptor>;
}

export async function readArchiveManifest(tree: FileTree): Promise<ArchiveManifestEntry[]> {
  const where = `${tree.subject}: manifest.json`;
  if ((await tree.size('manifest.json')) === undefined) {
    throw new LayerwiseError('MANIFEST_INVALID', `${tree.subject}: not a docker-archive (no manifest.json)`, { subject: tree.subject });
  }
  const v = parseJsonBytes(await tree.readFile('manifest.json'), where, 'MANIFEST_INVALID');
  if (!Array.isArray(v)) throw new LayerwiseError('MANIFEST_INVALID', `${where}: not a JSON array`, { subject: tree.subject });
  return v.map((e, i) => {
    const o = e as Record<string, unknown>;
    if (!o || typeof o !== 'object' || typeof o.Config !== 'string' || !Array.isArray(o.Layers) || !o.Layers.every((l) => typeof l === 'string')) {
      throw new LayerwiseError('MANIFEST_INVALID', `${where}: entry ${i} lacks Config or Layers`, { subject: tree.subject });
    }
    const tags = Array.isArray(o.RepoTags) ? o.RepoTags.filter((t): t is string => typeof t === 'string') : null;
    return { Config: o.Config, RepoTags: tags, Layers: o.Layers as string[], LayerSources: o.LayerSources as Record<string, Descriptor> | undefined };
  });
}

function selectEntry(entries: ArchiveManifestEntry[], sel: ArchiveSelector, subject: string): ArchiveManifestEntry {
  if (sel.kind === 'index') {
    const e = entries[sel.index];
    if (!e) throw new LayerwiseError('IMAGE_NOT_FOUND', `${subject}: no image @${sel.index} (the archive holds ${entries.length})`, { subject });
    return e;
  }
  if (sel.kind === 'only') {
    if (entries.length === 1) return entries[0]!;
    if (entries.length === 0) throw new LayerwiseError('IMAGE_NOT_FOUND', `${subject}: the archive holds no images`, { subject });
    const names = entries.map((e, i) => (e.RepoTags?.[0] ?? `@${i}`)).join(', ');
    throw new LayerwiseError('IMAGE_AMBIGUOUS', `${subject}: holds ${entries.length} images (${names}); choose one with :NAME:TAG or :@N`, { subject });
  }
  const want = normalizeImageName(sel.name);
  const found = entries.find((e) => (e.RepoTags ?? []).some((t) => normalizeImageName(t) === want));
  if (!found) {
    const names = entries.flatMap((e) => e.RepoTags ?? []).join(', ') || 'none';
    throw new LayerwiseError('IMAGE_NOT_FOUND', `${subject}: no image named ${sel.name} (has: ${names})`, { subject });
  }
  return found;
}

async function fileDigest(tree: FileTree, name: string): Promise<Digest> {
  const ra = await tree.open(name);
  try {
    const d = new DigestingStream();
    for await (const _ of ra.stream().pipe(d)) {
      // drain
    }
    return d.digest;
  } finally {
    await ra.close();
  }
}

/**
 * Opens one image of a docker-archive (`docker save` output). Both layouts are read: the legacy one
 * (<id>/layer.tar, <id>.json) and Docker 25+'s OCI layout inside the tar, whose manifest bytes we keep
 * so the manifest digest survives.
 */
export async function readDockerArchive(file: string, sel: ArchiveSelector, reference: string, opts: { platform?: Platform } = {}): Promise<Image> {
  const tree = await TarTree.open(file);
  return readDockerArchiveTree(tree, sel, reference, opts);
}

export async function readDockerArchiveTree(tree: FileTree, sel: ArchiveSelector, reference: string, opts: { platform?: Platform } = {}): Promise<Image> {
  const entries = await readArchiveManifest(tree);
  const entry = selectEntry(entries, sel, reference);
  const configSize = await tree.size(entry.Config);
  if (configSize === undefined) throw new LayerwiseError('BLOB_MISSING', `${reference}: config ${entry.Config} is missing from the archive`, { subject: reference });
  const configBytes = await tree.readFile(entry.Config);
  const id = sha256(configBytes);
  const named = /([0-9a-f]{64})(\.json)?$/.exec(entry.Config);
  if (named && named[1] !== id.slice(7)) {
    throw new LayerwiseError('DIGEST_MISMATCH', `${reference}: config ${entry.Config} has content ${id}`, { subject: reference });
  }
  const config = parseImageConfig(configBytes, `${reference}: config`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== entry.Layers.length) {
    throw new LayerwiseError('MANIFEST_INVALID', `${reference}: manifest.json lists ${entry.Layers.length} layers but the config has ${diffIds.length} diffIDs`, { subject: reference });
  }

  // Docker 25+ writes an OCI layout beside manifest.json: prefer its manifest, which has a real digest.
  let ociManifest: { manifest: Manifest; bytes: Buffer } | undefined;
  if ((await tree.size('index.json')) !== undefined && (await tree.size('oci-layout')) !== undefined) {
    const index = await readLayoutIndex(tree);
    for (const d of index.manifests) {
      // Entries that do not resolve (another platform, a missing blob) simply are not this image.
      const resolved = await resolveManifest(tree, d, opts.platform, reference).catch(() => undefined);
      if (resolved && resolved.manifest.config.digest === id && resolved.manifest.layers.length === entry.Layers.length) {
        ociManifest = { manifest: resolved.manifest, bytes: resolved.manifestBytes };
        break;
      }
    }
  }

  const layers: Layer[] = [];
  const descriptors: Descriptor[] = [];
  for (let i = 0; i < entry.Layers.length; i++) {
    const name = entry.Layers[i]!;
    const size = await tree.size(name);
    if (size === undefined) throw new LayerwiseError('BLOB_MISSING', `${reference}: layer ${i} (${name}) is missing from the archive`, { subject: reference });
    let desc: Descriptor;
    const fromOci = ociManifest?.manifest.layers[i];
    if (fromOci) {
      if (fromOci.size !== size) {
        throw new LayerwiseError('SIZE_MISMATCH', `${reference}: layer ${i} (${name}) is ${size} bytes, manifest says ${fromOci.size}`, { subject: reference });
      }
      desc = fromOci;
    } else {
      const ra = await tree.open(name);
      const head = await ra.read(0, Math.min(4, size)).finally(() => ra.close());
      const compression = sniffCompression(head);
      if (compression === 'none') {
        desc = { mediaType: MediaType.DockerLayer, digest: diffIds[i]!, size };
      } else {
        // Rare: a hand-made archive with compressed layers. Its blob digest is only known by hashing.
        const digest = await fileDigest(tree, name);
        desc = { mediaType: compression === 'gzip' ? MediaType.DockerLayerGzip : MediaType.DockerLayerZstd, digest, size };
      }
    }
    const compression = layerCompression(desc.mediaType);
    if (compression === undefined) throw new LayerwiseError('MEDIA_TYPE_UNSUPPORTED', `${reference}: layer ${i} has unsupported media type ${desc.mediaType}`, { subject: reference });
    descriptors.push(desc);
    layers.push(new BlobLayer(desc, diffIds[i]!, compression, `${reference}: layer ${i} (${name})`, () => tree.open(name)));
  }

  let manifest: Manifest;
  let manifestBytes: Buffer;
  if (ociManifest) {
    manifest = ociManifest.manifest;
    manifestBytes = ociManifest.bytes;
  } else {
    manifest = {
      schemaVersion: 2,
      mediaType: MediaType.DockerManifest,
      config: { mediaType: MediaType.DockerConfig, digest: id, size: configBytes.length },
      layers: descriptors,
    };
    manifestBytes = manifestToBytes(manifest);
  }
  let closed = false;
  return {
    reference,
    manifest,
    manifestBytes,
    digest: sha256(manifestBytes),
    mediaType: manifest.mediaType ?? MediaType.OciManifest,
    config,
    configBytes,
    id,
    layers,
    names: entry.RepoTags ?? [],
    close: async () => {
      if (closed) return;
      closed = true;
      await tree.close();
    },
  };
}

/** Lists the images of an archive, for `inspect` of a multi-image archive. */
export async function listArchiveImages(file: string): Promise<{ index: number; names: string[]; config: string }[]> {
  const tree = await TarTree.open(file);
  const entries = await readArchiveManifest(tree);
  return entries.map((e, i) => ({ index: i, names: e.RepoTags ?? [], config: e.Config }));
}
