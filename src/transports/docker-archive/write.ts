import type { Writable } from 'node:stream';
import { LayerwiseError } from '../../errors.js';
import { tap } from '../../stream/tap.js';
import type { Descriptor } from '../../model/descriptor.js';
import { digestHex, type Digest } from '../../model/digest.js';
import type { Image } from '../../model/image.js';
import { manifestToBytes, type Manifest } from '../../model/manifest.js';
import { MediaType } from '../../model/media-types.js';
import { sha256 } from '../../model/digest.js';
import { writeAtomically } from '../../stream/atomic.js';
import { TarFileWriter, TarStreamWriter, type ArchiveWriter } from '../../tar/archive-writer.js';
import type { Progress } from '../../progress.js';
import { toOciMediaType } from '../oci-layout/write.js';
import { familiarName } from '../reference.js';
import { REF_NAME } from '../oci-layout/read.js';

export interface ArchiveImage {
  image: Image;
  /** Names for RepoTags, e.g. "app:1.0.1". */
  tags: string[];
}

/**
 * 'uncompressed' writes layer tars as `docker save` does (the file default); 'as-stored' copies blobs as
 * they are, which `docker load` accepts too and which needs no size up front (used to stream into an engine).
 */
export type ArchiveLayerMode = 'uncompressed' | 'as-stored';

export interface ArchiveWriteOptions {
  layers?: ArchiveLayerMode;
  progress?: Progress;
  /** Layers (by diffID) to leave out, for engines that already hold them. */
  omitLayers?: ReadonlySet<Digest>;
}

const CONTAINERD_NAME = 'io.containerd.image.name';

/**
 * Writes images in the layout Docker 25+ `docker save` produces: an OCI layout (blobs/sha256, index.json,
 * oci-layout) plus the manifest.json that every `docker load` since 1.10 reads.
 */
export async function writeArchiveMembers(w: ArchiveWriter, images: ArchiveImage[], opts: ArchiveWriteOptions = {}): Promise<void> {
  const mode = opts.layers ?? 'uncompressed';
  const written = new Set<string>();
  const sizes = new Map<string, number>();
  const manifestJson: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const indexEntries: Descriptor[] = [];
  await w.addDir('blobs');
  await w.addDir('blobs/sha256');
  for (const { image, tags } of images) {
    const layerNames: string[] = [];
    const ociLayers: Descriptor[] = [];
    for (let i = 0; i < image.layers.length; i++) {
      const layer = image.layers[i]!;
      if (opts.omitLayers?.has(layer.diffId)) {
        const name = `blobs/sha256/${digestHex(layer.diffId)}`;
        layerNames.push(name);
        ociLayers.push({ mediaType: MediaType.OciLayer, digest: layer.diffId, size: layer.uncompressedSize ?? 0 });
        continue;
      }
      const uncompressed = mode === 'uncompressed' || layer.compression === 'none';
      const digest = uncompressed ? layer.diffId : layer.descriptor.digest;
      const name = `blobs/sha256/${digestHex(digest)}`;
      layerNames.push(name);
      let size = uncompressed ? layer.uncompressedSize : layer.descriptor.size;
      if (!written.has(name)) {
        opts.progress?.start(`layer ${i}`, layer.descriptor.size);
        const stream = tap(uncompressed ? await layer.uncompressed() : await layer.compressed(), opts.progress && ((n) => opts.progress!.advance(n)));
        size = await w.addStream(name, stream, size);
        opts.progress?.done();
        written.add(name);
        sizes.set(name, size);
      } else {
        size = sizes.get(name);
      }
      ociLayers.push(
        uncompressed
          ? { mediaType: MediaType.OciLayer, digest: layer.diffId, size: size ?? 0 }
          : { mediaType: toOciMediaType(layer.descriptor.mediaType), digest: layer.descriptor.digest, size: layer.descriptor.size },
      );
    }
    const configName = `blobs/sha256/${digestHex(image.id)}`;
    if (!written.has(configName)) {
      await w.addFile(configName, image.configBytes);
      written.add(configName);
    }
    // Keep the original manifest when it already describes exactly these blobs (a round trip of docker save).
    let manifestBytes: Buffer;
    const same =
      image.mediaType === MediaType.OciManifest &&
      image.manifest.layers.length === ociLayers.length &&
      image.manifest.layers.every((l, i) => l.digest === ociLayers[i]!.digest && l.mediaType === ociLayers[i]!.mediaType);
    if (same && !opts.omitLayers?.size) {
      manifestBytes = image.manifestBytes;
    } else {
      const m: Manifest = {
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: image.id, size: image.configBytes.length },
        layers: ociLayers,
      };
      manifestBytes = manifestToBytes(m);
    }
    const manifestDigest = sha256(manifestBytes);
    const manifestName = `blobs/sha256/${digestHex(manifestDigest)}`;
    if (!written.has(manifestName) && !opts.omitLayers?.size) {
      await w.addFile(manifestName, manifestBytes);
      written.add(manifestName);
    }
    const repoTags = tags.map((t) => familiarName(t));
    if (!opts.omitLayers?.size) {
      if (repoTags.length === 0) indexEntries.push({ mediaType: MediaType.OciManifest, digest: manifestDigest, size: manifestBytes.length });
      for (const t of repoTags) {
        const tag = t.slice(t.lastIndexOf(':') + 1);
        indexEntries.push({
          mediaType: MediaType.OciManifest,
          digest: manifestDigest,
          size: manifestBytes.length,
          annotations: { [CONTAINERD_NAME]: normalizedFull(t), [REF_NAME]: tag },
        });
      }
    }
    manifestJson.push({ Config: configName, RepoTags: repoTags.length ? repoTags : null, Layers: layerNames });
  }
  if (!opts.omitLayers?.size) {
    // Without every layer the OCI view would be incomplete; engines that accept partial archives read manifest.json.
    await w.addFile('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: indexEntries })));
    await w.addFile('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  }
  await w.addFile('manifest.json', Buffer.from(JSON.stringify(manifestJson)));
}

function normalizedFull(familiar: string): string {
  const slash = familiar.indexOf('/');
  const first = slash < 0 ? '' : familiar.slice(0, slash);
  if (slash < 0) return `docker.io/library/${familiar}`;
  if (first.includes('.') || first.includes(':') || first === 'localhost') return familiar;
  return `docker.io/${familiar}`;
}

/** Writes a docker-archive file atomically: a temporary sibling, renamed into place when complete. */
export async function writeDockerArchive(images: ArchiveImage[], file: string, opts: ArchiveWriteOptions = {}): Promise<void> {
  if (images.length === 0) throw new LayerwiseError('USAGE', `${file}: no images to write`);
  await writeAtomically(
    file,
    async (tmp) => {
      const w = await TarFileWriter.create(tmp);
      try {
        await writeArchiveMembers(w, images, opts);
        await w.finish();
      } catch (err) {
        await w.abort();
        throw err;
      }
    },
    { overwrite: true },
  );
}

/** Streams a docker-archive into `out` (e.g. an engine's load request); blobs go as stored. */
export async function streamDockerArchive(images: ArchiveImage[], out: Writable, opts: ArchiveWriteOptions = {}): Promise<void> {
  const w = new TarStreamWriter(out);
  await writeArchiveMembers(w, images, { ...opts, layers: 'as-stored' });
  await w.finish();
}
