import path from 'node:path';
import { LayerwiseError } from '../errors.js';
import type { Platform } from '../model/descriptor.js';
import type { Image } from '../model/image.js';
import type { Compression } from '../model/media-types.js';
import type { Progress } from '../progress.js';
import { DirectoryTree, TarTree } from '../stream/file-tree.js';
import { readDockerArchive } from './docker-archive/read.js';
import { writeDockerArchive } from './docker-archive/write.js';
import { loadIntoDaemon, readDaemonImage } from './docker-daemon/daemon.js';
import { StreamingDaemonImage } from './docker-daemon/stream-image.js';
import { DirectoryBackend, TarBackend } from './oci-layout/backend.js';
import { readOciLayout } from './oci-layout/read.js';
import { writeImageToLayout, type WriteResult } from './oci-layout/write.js';
import { parseReference, type ImageReference } from './reference.js';

export type { WriteResult } from './oci-layout/write.js';

export interface OpenOptions {
  platform?: Platform;
  dockerHost?: string;
  /**
   * Read Docker engines as streams (one `docker save` pass per read) instead of through a temporary local
   * copy. Patch creation and application use it: they read each image in a few sequential passes.
   */
  stream?: boolean;
  /** Options for docker:// (registry) references. */
  registry?: RegistryOptions;
}

export interface WriteOptions {
  /** Recompress layers for layout and registry destinations; by default blobs keep their bytes and digests. */
  compression?: Compression;
  dockerHost?: string;
  registry?: RegistryOptions;
  progress?: Progress;
  /** Extra names to give the image where the destination has names (docker-archive RepoTags, engine tags). */
  names?: string[];
  /** Send complete archives to Docker engines even when they already hold some layers. */
  fullEngineLoad?: boolean;
  /** Per-layer compression for layout and registry destinations (overrides `compression`). */
  layerCompression?: (index: number) => Compression | undefined;
}

/** Registry client settings; the registry transport defines what it reads from here. */
export interface RegistryOptions {
  /** USER:PASSWORD; wins over ~/.docker/config.json. */
  creds?: string;
  /** Allow plain HTTP and unverified TLS. */
  insecure?: boolean;
  /** PEM file of extra CA certificates to trust. */
  caFile?: string;
  /** A docker config.json to take credentials from (default $DOCKER_CONFIG/config.json, ~/.docker/config.json). */
  authFile?: string;
  /** Layers uploaded at once (default 3). */
  parallel?: number;
  progress?: Progress;
  /** Retries after transient failures (default 4), and the first backoff delay (default 250 ms, doubling). */
  retries?: number;
  retryDelayMs?: number;
  /** A connection silent this long counts as dropped (default 60 s). */
  timeoutMs?: number;
  /** Blobs above this size are uploaded in PATCH chunks of chunkSize (defaults 16 MiB and 8 MiB). */
  chunkThreshold?: number;
  chunkSize?: number;
  [key: string]: unknown;
}

/** The registry transport plugs in here, so the rest of layerwise treats docker:// like any other. */
export interface RegistryTransport {
  open(ref: Extract<ImageReference, { transport: 'docker' }>, opts: OpenOptions): Promise<Image>;
  write(image: Image, ref: Extract<ImageReference, { transport: 'docker' }>, opts: WriteOptions): Promise<WriteResult>;
}

let registryTransport: RegistryTransport | undefined;

export function setRegistryTransport(t: RegistryTransport): void {
  registryTransport = t;
}

async function registry(): Promise<RegistryTransport> {
  if (!registryTransport) {
    // Loaded lazily: the registry client is not needed for local transports.
    await import('./registry/transport.js');
  }
  if (!registryTransport) throw new LayerwiseError('TRANSPORT_UNKNOWN', 'the docker:// registry transport is unavailable');
  return registryTransport;
}

export function toReference(ref: string | ImageReference): ImageReference {
  return typeof ref === 'string' ? parseReference(ref) : ref;
}

/** Opens an image from any transport. The caller closes it. */
export async function openImage(ref: string | ImageReference, opts: OpenOptions = {}): Promise<Image> {
  const r = toReference(ref);
  switch (r.transport) {
    case 'docker-archive':
      return readDockerArchive(r.path, r.selector, r.raw, { platform: opts.platform });
    case 'oci': {
      const tree = new DirectoryTree(r.path);
      return readOciLayout(tree, r.raw, { tag: r.tag, platform: opts.platform }, async () => {});
    }
    case 'oci-archive': {
      const tree = await TarTree.open(r.path);
      return readOciLayout(tree, r.raw, { tag: r.tag, platform: opts.platform }, () => tree.close());
    }
    case 'docker-daemon':
      if (opts.stream) return StreamingDaemonImage.open(r.name, r.raw, { dockerHost: opts.dockerHost, platform: opts.platform });
      return readDaemonImage(r.name, r.raw, { dockerHost: opts.dockerHost, platform: opts.platform });
    case 'docker':
      return (await registry()).open(r, opts);
  }
}

/** The name an archive or engine destination gives the image, from the reference itself. */
export function destinationNames(r: ImageReference, extra: string[] = []): string[] {
  const names = [...extra];
  if (r.transport === 'docker-archive' && r.selector.kind === 'name') names.unshift(r.selector.name);
  if (r.transport === 'docker-daemon' && !/^(sha256:)?[0-9a-f]{12,64}$/.test(r.name)) names.unshift(r.name);
  return [...new Set(names)];
}

/** Writes an image to any transport. Output appears complete or not at all. */
export async function writeImage(image: Image, ref: string | ImageReference, opts: WriteOptions = {}): Promise<WriteResult> {
  const r = toReference(ref);
  switch (r.transport) {
    case 'docker-archive': {
      if (r.selector.kind === 'index') throw new LayerwiseError('USAGE', `${r.raw}: a destination archive takes NAME:TAG, not @N`);
      await writeDockerArchive([{ image, tags: destinationNames(r, opts.names) }], r.path, { progress: opts.progress });
      return { reference: r.raw, manifestDigest: image.digest, imageId: image.id, changed: [] };
    }
    case 'oci': {
      const backend = await DirectoryBackend.open(r.path);
      return writeImageToLayout(image, backend, { tag: r.tag, compression: opts.compression, layerCompression: opts.layerCompression, progress: opts.progress });
    }
    case 'oci-archive': {
      const backend = await TarBackend.open(r.path);
      return writeImageToLayout(image, backend, { tag: r.tag, compression: opts.compression, layerCompression: opts.layerCompression, progress: opts.progress });
    }
    case 'docker-daemon': {
      const tags = destinationNames(r, opts.names);
      await loadIntoDaemon([{ image, tags }], { dockerHost: opts.dockerHost, progress: opts.progress, missingLayersOnly: opts.fullEngineLoad !== true });
      return { reference: r.raw, manifestDigest: image.digest, imageId: image.id, changed: [] };
    }
    case 'docker':
      return (await registry()).write(image, r, opts);
  }
}

export function describeDestination(ref: string): string {
  const r = parseReference(ref);
  return 'path' in r ? path.resolve(r.path) : r.raw;
}
