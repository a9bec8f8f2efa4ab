import { pipeline, type Readable } from 'node:stream';
import type { Descriptor } from '../model/descriptor.js';
import type { Digest } from '../model/digest.js';
import type { Layer } from '../model/image.js';
import type { Compression } from '../model/media-types.js';
import { decompressStream, sniffCompression } from '../stream/compression.js';
import type { RandomAccess } from '../stream/random-access.js';
import { VerifyingStream } from '../stream/verify.js';

/** Chains streams and returns the last one; an error anywhere destroys the whole chain. */
export function chain(first: Readable, ...rest: NodeJS.ReadWriteStream[]): Readable {
  if (rest.length === 0) return first;
  return pipeline(first, ...(rest as [NodeJS.ReadWriteStream]), () => {}) as unknown as Readable;
}

/**
 * A layer whose blob lives in a file (directory layout or an archive member). It is the one place where
 * layers from files get their verification: compressed bytes against the descriptor, tar bytes against
 * the diffID.
 */
export class BlobLayer implements Layer {
  constructor(
    readonly descriptor: Descriptor,
    readonly diffId: Digest,
    readonly compression: Compression,
    private readonly subject: string,
    private readonly openBlob: () => Promise<RandomAccess>,
  ) {}

  get uncompressedSize(): number | undefined {
    return this.compression === 'none' ? this.descriptor.size : undefined;
  }

  async compressed(options: { verify?: boolean } = {}): Promise<Readable> {
    const ra = await this.openBlob();
    const raw = ra.stream();
    raw.on('close', () => void ra.close());
    if (options.verify === false) return raw;
    return chain(raw, new VerifyingStream({ digest: this.descriptor.digest, size: this.descriptor.size, subject: this.subject }));
  }

  private sniffed: Compression | undefined;

  /**
   * The compression the bytes really have. Media types can lie (skopeo 1.9 labels uncompressed layers
   * +gzip with --dest-oci-accept-uncompressed-layers), so like containers/image and go-containerregistry
   * we decompress by the magic bytes; validate reports the mislabel.
   */
  async actualCompression(): Promise<Compression> {
    if (this.sniffed) return this.sniffed;
    const ra = await this.openBlob();
    try {
      const head = await ra.read(0, Math.min(4, ra.size));
      this.sniffed = sniffCompression(head);
    } finally {
      await ra.close();
    }
    return this.sniffed;
  }

  async uncompressed(): Promise<Readable> {
    const actual = await this.actualCompression();
    const blob = await this.compressed();
    if (actual === 'none' && this.descriptor.digest === this.diffId) return blob;
    const tar = decompressStream(blob, actual, this.subject);
    return chain(tar, new VerifyingStream({ digest: this.diffId, subject: `${this.subject} (uncompressed)`, mismatchCode: 'DIFFID_MISMATCH' }));
  }

  async randomAccess(): Promise<RandomAccess | undefined> {
    if ((await this.actualCompression()) !== 'none') return undefined;
    return this.openBlob();
  }
}
