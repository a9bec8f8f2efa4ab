import { createGzip } from 'node:zlib';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import { LayerwiseError, isLayerwiseError } from '../errors.js';
import { chain } from '../image/blob-layer.js';
import { parseImageConfig } from '../model/config.js';
import type { Descriptor } from '../model/descriptor.js';
import { sha256, type Digest } from '../model/digest.js';
import type { Image, Layer } from '../model/image.js';
import { parseManifest } from '../model/manifest.js';
import { layerCompression, layerMediaType, manifestFamily, type Compression } from '../model/media-types.js';
import { FileWindow, type RandomAccess } from '../stream/random-access.js';
import { VerifyingStream } from '../stream/verify.js';
import { openImage, writeImage, type OpenOptions, type WriteOptions, type WriteResult } from '../transports/index.js';
import type { Progress } from '../progress.js';
import { BaseStore } from './base-store.js';
import { readPatchPreamble, readSection, type OpenedPatch, type PatchHeader, type PatchLayer } from './format.js';
import { decodeLayer, referencedEntries } from './layer-decoder.js';
import { decodeMetadata, digestDictionary } from './metadata.js';
import { openSection } from './section.js';

export interface ApplyPatchOptions {
  patch: string;
  /** What the site has. */
  from: (string | Image)[];
  open?: OpenOptions;
  progress?: Progress;
}

export interface ApplyResult extends WriteResult {
  imageId: Digest;
  /** Target digests that could not be reproduced byte for byte (recompressed layers, hence the manifest). */
  digestChanges: { what: string; from: string; to: string }[];
}

/** A patch opened against the site's images: everything checked that can be checked before writing. */
export class PatchSession {
  private constructor(
    readonly path: string,
    readonly ra: RandomAccess,
    readonly patch: OpenedPatch,
    private readonly opened: Image[],
    readonly bases: Image[],
    readonly store: BaseStore,
    readonly config: Buffer,
    readonly manifest: Buffer,
  ) {}

  get header(): PatchHeader {
    return this.patch.header;
  }

  /**
   * Opens a patch: verifies its header and every section digest, checks that the base images hold every
   * layer the patch requires and the image its metadata is coded against, and decodes config and manifest.
   * Fails before any output exists.
   */
  static async open(opts: ApplyPatchOptions): Promise<PatchSession> {
    const subject = opts.patch;
    const ra = await FileWindow.open(opts.patch).catch((err) => {
      throw new LayerwiseError('IO', `${opts.patch}: ${(err as Error).message}`, { subject });
    });
    const opened: Image[] = [];
    try {
      const patch = await readPatchPreamble(ra, subject);
      const h = patch.header;
      for (let i = 0; i < h.sections.length; i++) {
        // Hash every section up front: a flipped byte anywhere is reported before anything is written.
        await verifySection(ra, patch, i, subject);
      }
      if (opts.from.length === 0) throw new LayerwiseError('USAGE', 'patch apply needs --from: the image(s) the site already has');
      const bases: Image[] = [];
      for (const f of opts.from) {
        if (typeof f === 'string') {
          const img = await openImage(f, opts.open);
          opened.push(img);
          bases.push(img);
        } else bases.push(f);
      }
      const available = new Map<Digest, Layer>();
      for (const b of bases) for (const l of b.layers) if (!available.has(l.diffId)) available.set(l.diffId, l);
      const missing = h.requires.layers.filter((r) => !r.unused && !available.has(r.diffId));
      if (missing.length > 0) {
        const list = missing.map((m) => m.diffId.slice(7, 19)).join(', ');
        const made = h.requires.baseImages.map((b) => b.reference).join(', ');
        throw new LayerwiseError('PATCH_BASE_MISSING', `${subject}: the base lacks ${missing.length} layer(s) the patch needs (${list}); it was made against ${made}`, { subject });
      }
      const metaBase = h.requires.baseImages[h.config.base]!;
      const metaImage = bases.find((b) => b.id === metaBase.imageId);
      if (!metaImage) {
        throw new LayerwiseError('PATCH_BASE_MISSING', `${subject}: the base lacks image ${metaBase.imageId.slice(0, 19)} (${metaBase.reference}), which the patch's config and manifest are coded against`, { subject });
      }
      const dict = digestDictionary(h);
      const config = await decodeMetadata(metaImage.configBytes, dict, await readSection(ra, patch, h.config.section, subject), `${subject}: config`);
      if (sha256(config) !== h.target.imageId) throw new LayerwiseError('PATCH_BASE_MISMATCH', `${subject}: rebuilt config is ${sha256(config)}, expected ${h.target.imageId}`, { subject });
      const manifest = await decodeMetadata(metaImage.manifestBytes, dict, await readSection(ra, patch, h.manifest.section, subject), `${subject}: manifest`);
      if (sha256(manifest) !== h.target.manifestDigest) throw new LayerwiseError('PATCH_BASE_MISMATCH', `${subject}: rebuilt manifest is ${sha256(manifest)}, expected ${h.target.manifestDigest}`, { subject });
      // Which base entries the layer sections use, so bases that must be streamed keep only those.
      const referenced = new Map<number, Set<number>>();
      for (const l of h.layers) {
        if (l.source.kind !== 'rebuilt') continue;
        const cursors = await openSection(ra, patch.sectionOffsets[l.source.section]!, h.sections[l.source.section]!.length, subject);
        const refs = await referencedEntries(cursors.entries, `${subject}: layer ${l.diffId.slice(7, 19)}`);
        for (const [layer, set] of refs.headers) if (!referenced.has(layer)) referenced.set(layer, new Set());
        for (const [layer, set] of refs.data) {
          const s = referenced.get(layer) ?? new Set<number>();
          for (const e of set) s.add(e);
          referenced.set(layer, s);
        }
      }
      const store = await BaseStore.open(h.requires.layers, available, referenced, opts.progress);
      return new PatchSession(subject, ra, patch, opened, bases, store, config, manifest);
    } catch (err) {
      for (const img of opened) await img.close();
      await ra.close();
      throw err;
    }
  }

  /** The target image, rebuilt lazily from the patch and the base. */
  image(opts: { exactBlobs?: boolean } = {}): Image {
    const h = this.header;
    const manifest = parseManifest(this.manifest, `${this.path}: manifest`);
    const config = parseImageConfig(this.config, `${this.path}: config`);
    const available = new Map<Digest, Layer>();
    for (const b of this.bases) for (const l of b.layers) if (!available.has(l.diffId)) available.set(l.diffId, l);
    const blobs = new Map<Digest, Layer>();
    for (const b of this.bases) for (const l of b.layers) blobs.set(l.descriptor.digest, l);
    const family = manifestFamily(h.target.mediaType);
    const layers = h.layers.map((pl, i) => new PatchedLayer(this, pl, i, available, blobs, family, opts.exactBlobs ?? true));
    return {
      reference: `patch:${this.path}`,
      manifest,
      manifestBytes: this.manifest,
      digest: h.target.manifestDigest,
      mediaType: h.target.mediaType,
      config,
      configBytes: this.config,
      id: h.target.imageId,
      layers,
      names: h.target.names,
      close: async () => {},
    };
  }

  async rebuiltStream(pl: PatchLayer, index: number): Promise<Readable> {
    if (pl.source.kind !== 'rebuilt') throw new LayerwiseError('INTERNAL', 'not a rebuilt layer');
    const s = pl.source.section;
    const cursors = await openSection(this.ra, this.patch.sectionOffsets[s]!, this.header.sections[s]!.length, this.path);
    const subject = `${this.path}: layer ${index}`;
    const gen = decodeLayer(cursors, this.store, subject);
    return chain(
      Readable.from(gen, { objectMode: false }),
      new VerifyingStream({ digest: pl.diffId, size: pl.size, subject: `${subject} rebuilt from the base (the base differs from the one the patch was made against)`, mismatchCode: 'PATCH_BASE_MISMATCH' }),
    );
  }

  async close(): Promise<void> {
    await this.store.close();
    for (const img of this.opened) await img.close();
    await this.ra.close();
  }
}

async function verifySection(ra: RandomAccess, patch: OpenedPatch, i: number, subject: string): Promise<void> {
  const info = patch.header.sections[i]!;
  const hash = createHash('sha256');
  const start = patch.sectionOffsets[i]!;
  for (let off = 0; off < info.length; off += 1 << 20) hash.update(await ra.read(start + off, Math.min(1 << 20, info.length - off)));
  if (`sha256:${hash.digest('hex')}` !== info.digest) {
    throw new LayerwiseError('PATCH_CORRUPT', `${subject}: ${info.kind} section ${i} does not match its digest (the patch is corrupt)`, { subject });
  }
}

/** A layer of the target image, produced from the base (reused layers) or the patch (rebuilt layers). */
class PatchedLayer implements Layer {
  readonly descriptor: Descriptor;
  readonly diffId: Digest;
  readonly compression: Compression;
  /** The descriptor the target manifest lists, when this layer is presented differently (recompressed). */
  readonly targetDescriptor: Descriptor;

  constructor(
    private readonly session: PatchSession,
    private readonly pl: PatchLayer,
    private readonly index: number,
    private readonly available: Map<Digest, Layer>,
    private readonly blobs: Map<Digest, Layer>,
    family: 'oci' | 'docker',
    exact: boolean,
  ) {
    this.diffId = pl.diffId;
    this.targetDescriptor = pl.descriptor;
    if (pl.blob.kind === 'recompress' || !exact) {
      // Cannot (or need not) make the original compressed blob: present the tar itself.
      this.descriptor = { mediaType: layerMediaType(family, 'none'), digest: pl.diffId, size: pl.size };
      this.compression = 'none';
    } else {
      this.descriptor = pl.descriptor;
      this.compression = layerCompression(pl.descriptor.mediaType) ?? 'none';
    }
  }

  get uncompressedSize(): number {
    return this.pl.size;
  }

  get recompressTo(): Compression | undefined {
    return this.pl.blob.kind === 'recompress' ? this.pl.blob.compression : undefined;
  }

  async uncompressed(): Promise<Readable> {
    if (this.pl.source.kind === 'rebuilt') return this.session.rebuiltStream(this.pl, this.index);
    const base = this.available.get(this.pl.diffId);
    if (!base) throw new LayerwiseError('PATCH_BASE_MISSING', `base layer ${this.pl.diffId} is missing`);
    return base.uncompressed();
  }

  async compressed(): Promise<Readable> {
    if (this.compression === 'none') return this.uncompressed();
    const blob = this.pl.blob;
    if (blob.kind === 'base-blob') {
      const b = this.blobs.get(this.pl.descriptor.digest);
      if (b) return b.compressed();
    }
    if (blob.kind === 'gzip') {
      return chain(await this.uncompressed(), createGzip({ level: blob.level }), new VerifyingStream({ digest: this.descriptor.digest, size: this.descriptor.size, subject: `layer ${this.index} recompressed with gzip -${blob.level}` }));
    }
    throw new LayerwiseError('INTERNAL', `layer ${this.index}: no way to produce blob ${this.pl.descriptor.digest}`);
  }
}

/**
 * Applies a patch: rebuilds the target image from the base images and writes it to `to` (any
 * transport). Output is written atomically by the transport; nothing is written when any check fails.
 */
export async function applyPatch(opts: ApplyPatchOptions & { to: string; write?: WriteOptions }): Promise<ApplyResult> {
  const session = await PatchSession.open(opts);
  try {
    const image = session.image();
    const recompress = (i: number) => (image.layers[i] as PatchedLayer).recompressTo;
    const result = await writeImage(image, opts.to, { ...opts.write, progress: opts.progress, layerCompression: recompress });
    const digestChanges = result.changed.map((c) => {
      const m = /^layer (\d+)$/.exec(c.what);
      const target = m ? (image.layers[Number(m[1])] as PatchedLayer).targetDescriptor.digest : c.from;
      return { what: c.what, from: target, to: c.to };
    });
    return { ...result, imageId: image.id, digestChanges };
  } catch (err) {
    if (isLayerwiseError(err, 'PATCH_BASE_MISMATCH')) throw await explainBaseMismatch(session, err);
    throw err;
  } finally {
    await session.close();
  }
}

/** After a mismatch, finds which base layer is not what its diffID says, to name it in the error. */
async function explainBaseMismatch(session: PatchSession, err: LayerwiseError): Promise<LayerwiseError> {
  for (const b of session.bases) {
    for (const l of b.layers) {
      try {
        await pipeline(await l.uncompressed(), new Writable({ write: (_c, _e, cb) => cb() }));
      } catch (e) {
        if (isLayerwiseError(e)) return new LayerwiseError('PATCH_BASE_MISMATCH', `base image ${b.reference} is corrupt: ${e.message}`, { cause: err });
      }
    }
  }
  return err;
}

export interface VerifyResult {
  imageId: Digest;
  manifestDigest: Digest;
  layers: { index: number; diffId: Digest; source: 'base' | 'rebuilt'; bytes: number }[];
}

/** Rebuilds the target in memory-bounded streams and checks every digest, writing nothing. */
export async function verifyPatch(opts: ApplyPatchOptions): Promise<VerifyResult> {
  const session = await PatchSession.open(opts);
  try {
    const image = session.image({ exactBlobs: false });
    const layers: VerifyResult['layers'] = [];
    for (let i = 0; i < image.layers.length; i++) {
      const l = image.layers[i]!;
      let bytes = 0;
      opts.progress?.start(`verifying layer ${i}`, l.uncompressedSize ?? undefined);
      await pipeline(
        await l.uncompressed(),
        new Writable({
          write(c: Buffer, _e, cb) {
            bytes += c.length;
            opts.progress?.advance(c.length);
            cb();
          },
        }),
      );
      opts.progress?.done();
      layers.push({ index: i, diffId: l.diffId, source: session.header.layers[i]!.source.kind, bytes });
    }
    return { imageId: image.id, manifestDigest: image.digest, layers };
  } catch (err) {
    if (isLayerwiseError(err, 'PATCH_BASE_MISMATCH')) throw await explainBaseMismatch(session, err);
    throw err;
  } finally {
    await session.close();
  }
}
