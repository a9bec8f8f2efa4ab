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
import { Coalesce } from '../stream/coalesce.js';
import { LayerSafetyStream } from '../tar/layer-safety.js';
import { makeScratchDir } from '../stream/scratch.js';
import { rm } from 'node:fs/promises';
import { openImage, writeImage, type OpenOptions, type WriteOptions, type WriteResult } from '../transports/index.js';
import type { Progress } from '../progress.js';
import { BaseStore } from './base-store.js';
import { readPatchPreamble, readSection, type OpenedPatch, type PatchHeader, type PatchLayer, type PatchTarget, type TargetLayer } from './format.js';
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
    /** Per target: its config and manifest bytes, rebuilt and checked. */
    readonly configs: Buffer[],
    readonly manifests: Buffer[],
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
          const img = await openImage(f, { ...opts.open, stream: true });
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
        // Name the images (and services) that need what is missing, where the header tells.
        const lacking = new Set(missing.map((m) => m.diffId));
        const needers = h.targets.filter((t) => t.layers.some((tl) => lacking.has(h.layers[tl.layer]!.diffId)));
        const who = needers.map((t) => `${t.services?.length ? t.services.join('/') + ' ' : ''}${t.names[0] ?? t.imageId.slice(0, 19)}`).join(', ');
        throw new LayerwiseError('PATCH_BASE_MISSING', `${subject}: the base lacks ${missing.length} layer(s) the patch needs (${list})${who ? ` for ${who}` : ''}; it was made against ${made}`, { subject });
      }
      const configs: Buffer[] = [];
      const manifests: Buffer[] = [];
      for (const t of h.targets) {
        const metaBase = h.requires.baseImages[t.config.base]!;
        const metaImage = bases.find((b) => b.id === metaBase.imageId);
        if (!metaImage) {
          throw new LayerwiseError('PATCH_BASE_MISSING', `${subject}: the base lacks image ${metaBase.imageId.slice(0, 19)} (${metaBase.reference}), which the patch's config and manifest of ${t.names[0] ?? t.reference} are coded against`, { subject });
        }
        const dict = digestDictionary(h.layers, t);
        const config = await decodeMetadata(metaImage.configBytes, dict, await readSection(ra, patch, t.config.section, subject), `${subject}: config`);
        if (sha256(config) !== t.imageId) throw new LayerwiseError('PATCH_BASE_MISMATCH', `${subject}: rebuilt config is ${sha256(config)}, expected ${t.imageId}`, { subject });
        const manifest = await decodeMetadata(metaImage.manifestBytes, dict, await readSection(ra, patch, t.manifest.section, subject), `${subject}: manifest`);
        if (sha256(manifest) !== t.manifestDigest) throw new LayerwiseError('PATCH_BASE_MISMATCH', `${subject}: rebuilt manifest is ${sha256(manifest)}, expected ${t.manifestDigest}`, { subject });
        configs.push(config);
        manifests.push(manifest);
      }
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
      const store = await BaseStore.open(h.requires.layers, bases, referenced, opts.progress);
      return new PatchSession(subject, ra, patch, opened, bases, store, configs, manifests);
    } catch (err) {
      for (const img of opened) await img.close();
      await ra.close();
      throw err;
    }
  }

  /** A target image, rebuilt lazily from the patch and the base. */
  image(target = 0, opts: { exactBlobs?: boolean } = {}): Image {
    const h = this.header;
    const t = h.targets[target];
    if (!t) throw new LayerwiseError('USAGE', `${this.path} has no target ${target}`);
    const manifest = parseManifest(this.manifests[target]!, `${this.path}: manifest`);
    const config = parseImageConfig(this.configs[target]!, `${this.path}: config`);
    const available = new Map<Digest, Layer>();
    for (const b of this.bases) for (const l of b.layers) if (!available.has(l.diffId)) available.set(l.diffId, l);
    const blobs = new Map<Digest, Layer>();
    for (const b of this.bases) for (const l of b.layers) blobs.set(l.descriptor.digest, l);
    const family = manifestFamily(t.mediaType);
    const same = (a: Layer['descriptor'], b: Layer['descriptor']) => a.digest === b.digest && a.size === b.size && a.mediaType === b.mediaType;
    const layers = t.layers.map((tl, i): Layer => {
      const pl = h.layers[tl.layer]!;
      // A layer the site has as exactly this blob is the base's own layer: destinations can then skip
      // or mount it (registries) instead of moving its bytes.
      const exact = pl.source.kind === 'base' && (opts.exactBlobs ?? true) ? blobs.get(tl.descriptor.digest) : undefined;
      if (exact && same(exact.descriptor, tl.descriptor) && exact.diffId === pl.diffId) return exact;
      return new PatchedLayer(this, pl, tl, i, available, blobs, family, opts.exactBlobs ?? true);
    });
    return {
      reference: `patch:${this.path}${h.targets.length > 1 ? `#${target}` : ''}`,
      manifest,
      manifestBytes: this.manifests[target]!,
      digest: t.manifestDigest,
      mediaType: t.mediaType,
      config,
      configBytes: this.configs[target]!,
      id: t.imageId,
      layers,
      names: t.names,
      close: async () => {},
    };
  }

  async rebuiltStream(pl: PatchLayer, index: number): Promise<Readable> {
    if (pl.source.kind !== 'rebuilt') throw new LayerwiseError('INTERNAL', 'not a rebuilt layer');
    const s = pl.source.section;
    const cursors = await openSection(this.ra, this.patch.sectionOffsets[s]!, this.header.sections[s]!.length, this.path);
    const subject = `${this.path}: layer ${index}`;
    // Archive members unpacked while decoding live in the session's scratch directory, removed by close().
    this.scratch ??= await makeScratchDir('apply');
    const gen = decodeLayer(cursors, this.store, subject, this.scratch);
    return chain(
      Readable.from(gen, { objectMode: false }),
      // A rebuilt layer arrives as headers, small files and padding: gathered into large chunks first.
      new Coalesce(),
      // The patch is only as trustworthy as its maker: the rebuilt tar gets the same checks as any layer.
      new LayerSafetyStream(subject),
      new VerifyingStream({ digest: pl.diffId, size: pl.size, subject: `${subject} rebuilt from the base (the base differs from the one the patch was made against)`, mismatchCode: 'PATCH_BASE_MISMATCH' }),
    );
  }

  private scratch: string | undefined;

  async close(): Promise<void> {
    if (this.scratch) await rm(this.scratch, { recursive: true, force: true });
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
    private readonly tl: TargetLayer,
    private readonly index: number,
    private readonly available: Map<Digest, Layer>,
    private readonly blobs: Map<Digest, Layer>,
    family: 'oci' | 'docker',
    exact: boolean,
  ) {
    this.diffId = pl.diffId;
    this.targetDescriptor = tl.descriptor;
    if (tl.blob.kind === 'recompress' || !exact) {
      // Cannot (or need not) make the original compressed blob: present the tar itself.
      this.descriptor = { mediaType: layerMediaType(family, 'none'), digest: pl.diffId, size: pl.size };
      this.compression = 'none';
    } else {
      this.descriptor = tl.descriptor;
      this.compression = layerCompression(tl.descriptor.mediaType) ?? 'none';
    }
  }

  get uncompressedSize(): number {
    return this.pl.size;
  }

  get recompressTo(): Compression | undefined {
    return this.tl.blob.kind === 'recompress' ? this.tl.blob.compression : undefined;
  }

  async uncompressed(): Promise<Readable> {
    if (this.pl.source.kind === 'rebuilt') return this.session.rebuiltStream(this.pl, this.index);
    const base = this.available.get(this.pl.diffId);
    if (!base) throw new LayerwiseError('PATCH_BASE_MISSING', `base layer ${this.pl.diffId} is missing`);
    return base.uncompressed();
  }

  async compressed(): Promise<Readable> {
    if (this.compression === 'none') return this.uncompressed();
    const blob = this.tl.blob;
    if (blob.kind === 'base-blob') {
      const b = this.blobs.get(this.tl.descriptor.digest);
      if (b) return b.compressed();
    }
    if (blob.kind === 'gzip') {
      return chain(await this.uncompressed(), createGzip({ level: blob.level }), new VerifyingStream({ digest: this.descriptor.digest, size: this.descriptor.size, subject: `layer ${this.index} recompressed with gzip -${blob.level}` }));
    }
    throw new LayerwiseError('INTERNAL', `layer ${this.index}: no way to produce blob ${this.tl.descriptor.digest}`);
  }
}

/**
 * Applies a patch: rebuilds the target image from the base images and writes it to `to` (any
 * transport). Output is written atomically by the transport; nothing is written when any check fails.
 */
export async function applyPatch(opts: ApplyPatchOptions & { to: string; write?: WriteOptions }): Promise<ApplyResult> {
  const session = await PatchSession.open(opts);
  try {
    return await writeTarget(session, 0, opts.to, { ...opts.write, progress: opts.progress });
  } catch (err) {
    if (isLayerwiseError(err, 'PATCH_BASE_MISMATCH')) throw await explainBaseMismatch(session, err);
    throw err;
  } finally {
    await session.close();
  }
}

/** Writes one target of an open session to a destination; reports digests that could not be kept. */
export async function writeTarget(session: PatchSession, target: number, to: string, write: WriteOptions = {}): Promise<ApplyResult> {
  const image = session.image(target);
  const recompress = (i: number) => (image.layers[i] instanceof PatchedLayer ? (image.layers[i] as PatchedLayer).recompressTo : undefined);
  const result = await writeImage(image, to, { ...write, layerCompression: recompress });
  const digestChanges = result.changed.map((c) => {
    const m = /^layer (\d+)$/.exec(c.what);
    const l = m ? image.layers[Number(m[1])] : undefined;
    const from = l instanceof PatchedLayer ? l.targetDescriptor.digest : c.from;
    return { what: c.what, from, to: c.to };
  });
  return { ...result, imageId: image.id, digestChanges };
}

/** Checks every layer of every target of an open session (each distinct layer once). */
export async function verifySession(session: PatchSession, progress?: Progress): Promise<VerifyResult> {
  const h = session.header;
  const done = new Set<Digest>();
  let bytes = 0;
  const targets: VerifyResult['targets'] = [];
  for (let t = 0; t < h.targets.length; t++) {
    const image = session.image(t, { exactBlobs: false });
    const rows: VerifyResult['targets'][number]['layers'] = [];
    for (let i = 0; i < image.layers.length; i++) {
      const l = image.layers[i]!;
      const source = h.layers[h.targets[t]!.layers[i]!.layer]!.source.kind;
      rows.push({ index: i, diffId: l.diffId, source });
      // Layers the site has are checked when they are read for output; what must be proven before anything
      // is written is that the patch rebuilds the others exactly.
      if (done.has(l.diffId) || source === 'base') continue;
      done.add(l.diffId);
      progress?.start(`verifying layer ${l.diffId.slice(7, 19)}`, l.uncompressedSize ?? undefined);
      await pipeline(
        await l.uncompressed(),
        new Writable({
          write(c: Buffer, _e, cb) {
            bytes += c.length;
            progress?.advance(c.length);
            cb();
          },
        }),
      );
      progress?.done();
    }
    targets.push({ imageId: image.id, manifestDigest: image.digest, names: [...image.names], layers: rows });
  }
  return { imageId: targets[0]!.imageId, manifestDigest: targets[0]!.manifestDigest, targets, bytes };
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
  /** Every target (one for a patch, one per image for a bundle). */
  targets: { imageId: Digest; manifestDigest: Digest; names: string[]; layers: { index: number; diffId: Digest; source: 'base' | 'rebuilt' }[] }[];
  /** Uncompressed bytes rebuilt and checked, each distinct layer once. */
  bytes: number;
}

/** Rebuilds every target in memory-bounded streams and checks every digest, writing nothing. */
export async function verifyPatch(opts: ApplyPatchOptions): Promise<VerifyResult> {
  const session = await PatchSession.open(opts);
  try {
    return await verifySession(session, opts.progress);
  } catch (err) {
    if (isLayerwiseError(err, 'PATCH_BASE_MISMATCH')) throw await explainBaseMismatch(session, err);
    throw err;
  } finally {
    await session.close();
  }
}
