import { LayerwiseError } from '../../errors.js';
import { tap } from '../../stream/tap.js';
import type { Descriptor } from '../../model/descriptor.js';
import type { Digest } from '../../model/digest.js';
import type { Image } from '../../model/image.js';
import { parseIndex, manifestToBytes, type ImageIndex, type Manifest } from '../../model/manifest.js';
import { layerCompression, layerMediaType, MediaType, type Compression } from '../../model/media-types.js';
import { compressStream } from '../../stream/compression.js';
import { chain } from '../../image/blob-layer.js';
import type { LayoutBackend } from './backend.js';
import { REF_NAME } from './read.js';
import type { Progress } from '../../progress.js';

export interface LayoutWriteOptions {
  tag?: string;
  /** Recompress layers to this; by default blobs are copied as they are, so every digest is kept. */
  compression?: Compression;
  /** Per-layer override of `compression`. */
  layerCompression?: (index: number) => Compression | undefined;
  progress?: Progress;
}

export interface WriteResult {
  reference: string;
  manifestDigest: Digest;
  imageId: Digest;
  /** Blobs whose digest differs from the source's (recompressed layers, converted manifest). */
  changed: { what: string; from: Digest; to: Digest }[];
}

const TO_OCI: Record<string, string> = {
  [MediaType.DockerLayer]: MediaType.OciLayer,
  [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
  [MediaType.DockerLayerZstd]: MediaType.OciLayerZstd,
  [MediaType.DockerLayerForeignGzip]: MediaType.OciLayerNondistributableGzip,
  [MediaType.DockerConfig]: MediaType.OciConfig,
};

export function toOciMediaType(mt: string): string {
  return TO_OCI[mt] ?? mt;
}

/**
 * Writes one image into an OCI layout (directory or archive). Blobs first, manifest next, index.json
 * last; a Docker schema 2 manifest becomes an OCI manifest (as skopeo does), keeping the config bytes
 * and so the image ID.
 */
export async function writeImageToLayout(image: Image, backend: LayoutBackend, opts: LayoutWriteOptions = {}): Promise<WriteResult> {
  try {
    const changed: WriteResult['changed'] = [];
    const layers: Descriptor[] = [];
    let layersChanged = false;
    for (let i = 0; i < image.layers.length; i++) {
      const layer = image.layers[i]!;
      const want = opts.layerCompression?.(i) ?? opts.compression ?? layer.compression;
      const label = `layer ${i}`;
      opts.progress?.start(label, layer.descriptor.size);
      if (want === layer.compression) {
        const exists = await backend.hasBlob(layer.descriptor.digest);
        if (!exists) {
          const stream = tap(await layer.compressed(), opts.progress && ((n) => opts.progress!.advance(n)));
          // Layers hand out streams verified against their descriptor: no second hash here.
          await backend.putBlobStream(stream, { digest: layer.descriptor.digest, size: layer.descriptor.size, verified: true });
        }
        const mediaType = toOciMediaType(layer.descriptor.mediaType);
        if (mediaType !== layer.descriptor.mediaType) layersChanged = true;
        const { urls: _u, ...rest } = layer.descriptor;
        layers.push({ ...rest, mediaType });
      } else {
        const source = tap(await layer.uncompressed(), opts.progress && ((n) => opts.progress!.advance(n)));
        const stream = chain(source, compressStream(want));
        const got = await backend.putBlobStream(stream);
        layers.push({ mediaType: layerMediaType('oci', want), digest: got.digest, size: got.size });
        changed.push({ what: label, from: layer.descriptor.digest, to: got.digest });
        layersChanged = true;
      }
      opts.progress?.done();
    }
    await backend.putBlob(image.configBytes);
    let manifestBytes: Buffer;
    let mediaType: string;
    if (!layersChanged && image.mediaType === MediaType.OciManifest) {
      manifestBytes = image.manifestBytes;
      mediaType = MediaType.OciManifest;
    } else {
      const { mediaType: _m, config: _c, layers: _l, ...extra } = image.manifest;
      const manifest: Manifest = {
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: toOciMediaType(image.manifest.config.mediaType), digest: image.id, size: image.configBytes.length },
        layers,
        ...(extra.annotations ? { annotations: extra.annotations } : {}),
      };
      manifestBytes = manifestToBytes(manifest);
      mediaType = MediaType.OciManifest;
    }
    const manifestDigest = await backend.putBlob(manifestBytes);
    if (manifestDigest !== image.digest) changed.push({ what: 'manifest', from: image.digest, to: manifestDigest });

    const existing = await backend.existingIndex();
    const index: ImageIndex = existing
      ? parseIndex(existing, `${backend.subject}/index.json`)
      : { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
    const entry: Descriptor = {
      mediaType,
      digest: manifestDigest,
      size: manifestBytes.length,
      ...(opts.tag ? { annotations: { [REF_NAME]: opts.tag } } : {}),
    };
    index.manifests = index.manifests.filter((m) => {
      if (opts.tag) return m.annotations?.[REF_NAME] !== opts.tag;
      return !(m.digest === manifestDigest && !m.annotations?.[REF_NAME]);
    });
    index.manifests.push(entry);
    await backend.commit(Buffer.from(JSON.stringify(index)));
    return { reference: backend.subject, manifestDigest, imageId: image.id, changed };
  } catch (err) {
    await backend.abort();
    throw err;
  }
}

export function assertLayerType(d: Descriptor, where: string): Compression {
  const c = layerCompression(d.mediaType);
  if (c === undefined) throw new LayerwiseError('MEDIA_TYPE_UNSUPPORTED', `${where}: unsupported layer media type ${d.mediaType}`);
  return c;
}
