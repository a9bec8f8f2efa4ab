import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { compress as zstdCompress } from 'zstd-napi';
import type { ImageConfig, HistoryEntry } from '../model/config.js';
import type { Descriptor } from '../model/descriptor.js';
import { sha256, type Digest } from '../model/digest.js';
import type { Image, Layer } from '../model/image.js';
import { manifestToBytes, type Manifest } from '../model/manifest.js';
import { layerMediaType, MediaType, type Compression } from '../model/media-types.js';
import type { RandomAccess } from '../stream/random-access.js';

/** A layer held in memory: for tests and small generated layers. */
export class MemoryLayer implements Layer {
  readonly descriptor: Descriptor;
  readonly diffId: Digest;

  private constructor(readonly compression: Compression, private readonly blob: Buffer, private readonly tar: Buffer, mediaType: string) {
    this.diffId = sha256(tar);
    this.descriptor = { mediaType, digest: sha256(blob), size: blob.length };
  }

  static fromTar(tar: Buffer, opts: { compression?: Compression; family?: 'oci' | 'docker'; gzipLevel?: number } = {}): MemoryLayer {
    const compression = opts.compression ?? 'gzip';
    const blob = compression === 'gzip' ? gzipSync(tar, { level: opts.gzipLevel ?? 6 }) : compression === 'zstd' ? zstdCompress(tar) : tar;
    return new MemoryLayer(compression, blob, tar, layerMediaType(opts.family ?? 'oci', compression));
  }

  get uncompressedSize(): number {
    return this.tar.length;
  }

  async compressed(): Promise<Readable> {
    return Readable.from([this.blob]);
  }

  async uncompressed(): Promise<Readable> {
    return Readable.from([this.tar]);
  }

  async randomAccess(): Promise<RandomAccess | undefined> {
    const tar = this.tar;
    return {
      size: tar.length,
      read: async (offset, length) => Buffer.from(tar.subarray(offset, offset + length)),
      stream: (offset = 0, length = tar.length - offset) => Readable.from([tar.subarray(offset, offset + length)]),
      close: async () => {},
    };
  }
}

export interface ImageParts {
  layers: readonly Layer[];
  config: Omit<ImageConfig, 'rootfs'> & { rootfs?: ImageConfig['rootfs'] };
  /** 'oci' (default) or 'docker' manifest and config media types. */
  family?: 'oci' | 'docker';
  reference?: string;
  names?: string[];
  annotations?: Record<string, string>;
}

/** Serialises config and manifest for a set of layers: the one way layerwise makes new image metadata. */
export function assembleImage(parts: ImageParts): Image {
  const family = parts.family ?? 'oci';
  const config: ImageConfig = { ...parts.config, rootfs: { type: 'layers', diff_ids: parts.layers.map((l) => l.diffId) } } as ImageConfig;
  const configBytes = Buffer.from(JSON.stringify(config));
  const id = sha256(configBytes);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: family === 'oci' ? MediaType.OciManifest : MediaType.DockerManifest,
    config: { mediaType: family === 'oci' ? MediaType.OciConfig : MediaType.DockerConfig, digest: id, size: configBytes.length },
    layers: parts.layers.map((l) => l.descriptor),
    ...(parts.annotations ? { annotations: parts.annotations } : {}),
  };
  const manifestBytes = manifestToBytes(manifest);
  return {
    reference: parts.reference ?? `memory:${id.slice(7, 19)}`,
    manifest,
    manifestBytes,
    digest: sha256(manifestBytes),
    mediaType: manifest.mediaType!,
    config,
    configBytes,
    id,
    layers: parts.layers,
    names: parts.names ?? [],
    close: async () => {},
  };
}

export function defaultConfig(history: HistoryEntry[] = []): ImageParts['config'] {
  return {
    architecture: 'amd64',
    os: 'linux',
    created: '1970-01-01T00:00:00Z',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    history,
  };
}
