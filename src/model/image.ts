import type { Readable } from 'node:stream';
import type { ImageConfig } from './config.js';
import type { Descriptor } from './descriptor.js';
import type { Digest } from './digest.js';
import type { Manifest } from './manifest.js';
import type { Compression } from './media-types.js';
import type { RandomAccess } from '../stream/random-access.js';

/**
 * One layer of an image. Every stream it hands out is verified while read: the compressed stream
 * against the descriptor's digest and size, the uncompressed stream against the diffID. A stream that
 * does not match errors at its end, so callers must not commit output before the stream has ended.
 */
export interface Layer {
  /** The blob as the manifest lists it (compressed digest and size, media type). */
  readonly descriptor: Descriptor;
  /** sha256 of the uncompressed tar, as listed in the image config. */
  readonly diffId: Digest;
  readonly compression: Compression;
  /** Uncompressed size when the source knows it without reading (uncompressed blobs). */
  readonly uncompressedSize: number | undefined;
  /** The blob bytes. `verify: false` is for validate, which measures and reports instead of failing. */
  compressed(options?: { verify?: boolean }): Promise<Readable>;
  uncompressed(): Promise<Readable>;
  /**
   * Positional reads into the uncompressed tar, when the source stores it uncompressed in a seekable file.
   * Reads are not verified; whoever builds from them verifies the result.
   */
  randomAccess?(): Promise<RandomAccess | undefined>;
}

/** An image: its manifest and config (original bytes kept, so digests survive a copy) and its layers. */
export interface Image {
  /** Where the image came from, for messages: "docker-archive:app.tar:app:1". */
  readonly reference: string;
  readonly manifest: Manifest;
  readonly manifestBytes: Buffer;
  /** sha256 of manifestBytes. */
  readonly digest: Digest;
  readonly mediaType: string;
  readonly config: ImageConfig;
  readonly configBytes: Buffer;
  /** The image ID: sha256 of the config bytes. */
  readonly id: Digest;
  readonly layers: readonly Layer[];
  /** Names the source knows the image by (docker RepoTags, OCI ref names). */
  readonly names: readonly string[];
  /** Releases files or temporary copies the source holds. Safe to call twice. */
  close(): Promise<void>;
  /**
   * Sources that can only stream (engines) deliver several layers in one pass: each wanted layer's
   * verified tar, in the order the source produces them. Others need not implement it (see image/scan.ts).
   */
  scanLayers?(visit: (layer: Layer, tar: Readable) => Promise<void>, wanted?: ReadonlySet<Digest>): Promise<void>;
}
