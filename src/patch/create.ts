import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { LayerwiseError } from '../errors.js';
import type { Digest } from '../model/digest.js';
import type { Image, Layer } from '../model/image.js';
import { openImage, type OpenOptions } from '../transports/index.js';
import { writeAtomically } from '../stream/atomic.js';
import { makeScratchDir } from '../stream/scratch.js';
import type { Progress } from '../progress.js';
import { emptyStats, encodePatchPreamble, PATCH_VERSION, type BlobRecipe, type PatchHeader, type PatchLayer, type PatchTarget, type SectionInfo, type TargetLayer } from './format.js';
import { encodeLayer } from './layer-encoder.js';
import { digestDictionary, encodeMetadata } from './metadata.js';
import { emptySurvey, OldIndex, surveyLayer, type Survey } from './old-index.js';
import { ArchiveIndex, discoverArchives } from './archive-index.js';
import { scanLayers } from '../image/scan.js';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { SectionWriter } from './section.js';
import { gzipRecipe } from './gzip-recipe.js';

export interface CreatePatchOptions {
  /** What the site has: one or more images. */
  from: (string | Image)[];
  /** The image to ship. */
  to: string | Image;
  /** Patch file to write (atomically). */
  output: string;
  open?: OpenOptions;
  progress?: Progress;
  tool?: string;
}

/** One image a patch file rebuilds. */
export interface EncodeTarget {
  image: string | Image;
  services?: string[];
  from?: string;
}

export interface EncodeOptions {
  from: (string | Image)[];
  targets: EncodeTarget[];
  output: string;
  kind: 'patch' | 'bundle';
  open?: OpenOptions;
  progress?: Progress;
  tool?: string;
  env?: Record<string, string>;
}

export interface CreatePatchResult {
  output: string;
  bytes: number;
  header: PatchHeader;
  /** Bytes of each stream kind over all layer sections, for reports. */
  streamBytes: Record<string, number>;
}

function sha256hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Makes a patch that turns the `from` images (what the site has) into `to`. */
export async function createPatch(opts: CreatePatchOptions): Promise<CreatePatchResult> {
  return encodePatchFile({ from: opts.from, targets: [{ image: opts.to }], output: opts.output, kind: 'patch', open: opts.open, progress: opts.progress, tool: opts.tool });
}

/**
 * Encodes a patch file for one or more target images against what the site has. Reads every base layer
 * once (indexing files by path and content) and every new layer once (encoding it), each as a verified
 * stream. A layer shared by several targets (a common base, two services on one image) is stored once.
 */
export async function encodePatchFile(opts: EncodeOptions): Promise<CreatePatchResult> {
  const opened: Image[] = [];
  const own = async (ref: string | Image) => {
    if (typeof ref !== 'string') return ref;
    const img = await openImage(ref, { ...opts.open, stream: true });
    opened.push(img);
    return img;
  };
  const tmpDir = await makeScratchDir('create');
  const index = new OldIndex();
  try {
    if (opts.from.length === 0) throw new LayerwiseError('USAGE', 'a patch needs at least one base image (what the site has)');
    if (opts.targets.length === 0) throw new LayerwiseError('USAGE', 'a patch needs at least one target image');
    const olds: Image[] = [];
    for (const f of opts.from) olds.push(await own(f));
    const targets: { image: Image; spec: EncodeTarget }[] = [];
    for (const t of opts.targets) targets.push({ image: await own(t.image), spec: t });

    // Base layers in image order, once per diffID.
    const baseLayers: Layer[] = [];
    const seen = new Set<Digest>();
    for (const img of olds) for (const l of img.layers) if (!seen.has(l.diffId)) {
      seen.add(l.diffId);
      baseLayers.push(l);
    }
    const stats = emptyStats();

    // The layer table, from manifests alone: every layer of every target once per diffID, either one the
    // site has or one to rebuild (its section is filled in below).
    const layers: PatchLayer[] = [];
    const layerIndex = new Map<Digest, number>();
    const targetLayers: TargetLayer[][] = [];
    const rebuilt = new Set<Digest>();
    for (const { image } of targets) {
      const tls: TargetLayer[] = [];
      for (const l of image.layers) {
        const blob = await blobRecipe(l, baseLayers);
        let li = layerIndex.get(l.diffId);
        if (li === undefined) {
          if (seen.has(l.diffId)) {
            stats.reusedLayers++;
            layers.push({ diffId: l.diffId, size: l.uncompressedSize ?? 0, source: { kind: 'base' } });
          } else {
            stats.rebuiltLayers++;
            rebuilt.add(l.diffId);
            layers.push({ diffId: l.diffId, size: 0, source: { kind: 'rebuilt', section: -1 } });
          }
          li = layers.length - 1;
          layerIndex.set(l.diffId, li);
        }
        tls.push({ layer: li, descriptor: l.descriptor, blob });
      }
      targetLayers.push(tls);
    }

    const sections: SectionInfo[] = [];
    const sectionFiles = new Map<Digest, { file: string; length: number; digest: Digest }>();
    const streamBytes: Record<string, number> = {};
    if (rebuilt.size > 0) {
      // Bases that cannot be read at random positions are indexed with a survey of the new layers first,
      // so that only possible delta bases are kept on disk.
      const basesSeekable = (await Promise.all(baseLayers.map(isSeekable))).every(Boolean);
      const newLayers = targets.flatMap((t) => t.image.layers.filter((l) => rebuilt.has(l.diffId)));
      const newSeekable = (await Promise.all(newLayers.map(isSeekable))).every(Boolean);
      // Archives in the new layers (whose unpacked files can come out of them): found by random access when
      // the new layers are on disk uncompressed, else during the survey pass.
      const archives = new Map<Digest, ArchiveIndex>();
      let survey: Survey | undefined;
      if (!basesSeekable || !newSeekable) {
        survey = emptySurvey();
        await eachRebuiltLayer(targets, rebuilt, async (l, tar) => {
          const found = new ArchiveIndex();
          await surveyLayer(tar, `layer ${l.diffId}`, survey!, newSeekable ? undefined : found);
          if (!newSeekable) archives.set(l.diffId, found);
        });
        if (basesSeekable) survey = undefined; // surveyed only for the archives
      }
      // Every base layer is indexed: its files may be referenced from anywhere.
      for (const img of olds) await scanLayers(img, async (l, tar) => void (await index.ingest(l, tar, survey, opts.progress)));
      // Each rebuilt layer is encoded once, as its image's stream delivers it, into its own section file.
      await eachRebuiltLayer(targets, rebuilt, async (l, tar) => {
          const known = (k: string) => index.byContent.has(k);
          let found = archives.get(l.diffId)?.without(known);
          if (!found) {
            const ra = l.randomAccess ? await l.randomAccess() : undefined;
            if (ra) {
              try {
                found = await discoverArchives(ra, `layer ${l.diffId}`, known);
              } finally {
                await ra.close();
              }
            }
          }
          const section = new SectionWriter(tmpDir);
          const res = await encodeLayer(l, tar, index, section, stats, tmpDir, opts.progress, found?.size ? found : undefined);
          layers[layerIndex.get(l.diffId)!]!.size = res.size;
          const file = path.join(tmpDir, `section-${sectionFiles.size}`);
          const out = await open(file, 'w');
          const hash = createHash('sha256');
          let pos = 0;
          const { length, streamBytes: sb } = await section.finish(async (c) => {
            hash.update(c);
            await out.write(c, 0, c.length, pos);
            pos += c.length;
          });
          await out.close();
          for (const [k, v] of Object.entries(sb)) streamBytes[k] = (streamBytes[k] ?? 0) + v;
          sectionFiles.set(l.diffId, { file, length, digest: `sha256:${hash.digest('hex')}` as Digest });
      });
    }
    // Section order is the layer table's; base layer numbers are the index's.
    for (const pl of layers) {
      if (pl.source.kind !== 'rebuilt') continue;
      const sf = sectionFiles.get(pl.diffId)!;
      sections.push({ kind: 'layer', length: sf.length, digest: sf.digest });
      pl.source = { kind: 'rebuilt', section: sections.length - 1 };
    }
    for (const pl of layers) if (pl.source.kind === 'base' && pl.size === 0) pl.size = index.layers[index.byDiffId.get(pl.diffId) ?? -1]?.size ?? 0;
    const requiresFrom = index.layers.length > 0 ? index.layers.map((l) => l.layer) : baseLayers;
    const used = new Set<number>(index.usedLayers());
    for (const pl of layers) if (pl.source.kind === 'base') used.add(requiresFrom.findIndex((l) => l.diffId === pl.diffId));

    const bodyPath = path.join(tmpDir, 'body');
    const body = await open(bodyPath, 'w+');
    let bodyLen = 0;
    const writeBody = async (chunk: Buffer) => {
      await body.write(chunk, 0, chunk.length, bodyLen);
      bodyLen += chunk.length;
    };
    for (const pl of layers) {
      if (pl.source.kind !== 'rebuilt') continue;
      const sf = sectionFiles.get(pl.diffId)!;
      for await (const c of createReadStream(sf.file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) await writeBody(c);
      await rm(sf.file, { force: true });
    }

    const patchTargets: PatchTarget[] = [];
    for (let ti = 0; ti < targets.length; ti++) {
      const { image, spec } = targets[ti]!;
      const info = { layers: targetLayers[ti]!, imageId: image.id, configSize: image.configBytes.length };
      const dict = digestDictionary(layers, info);
      // Config and manifest against whichever base image codes them smallest.
      let best: { base: number; config: Buffer; manifest: Buffer } | undefined;
      olds.forEach((o, bi) => {
        const config = encodeMetadata(o.configBytes, dict, image.configBytes);
        const manifest = encodeMetadata(o.manifestBytes, dict, image.manifestBytes);
        if (!best || config.length + manifest.length < best.config.length + best.manifest.length) best = { base: bi, config, manifest };
      });
      const meta = best!;
      for (const bytes of [meta.config, meta.manifest]) {
        await writeBody(bytes);
        stats.metadataBytes += bytes.length;
      }
      sections.push({ kind: 'config', length: meta.config.length, digest: `sha256:${sha256hex(meta.config)}` as Digest });
      sections.push({ kind: 'manifest', length: meta.manifest.length, digest: `sha256:${sha256hex(meta.manifest)}` as Digest });
      patchTargets.push({
        reference: image.reference,
        names: [...image.names],
        ...(spec.services ? { services: spec.services } : {}),
        ...(spec.from ? { from: spec.from } : {}),
        mediaType: image.mediaType,
        manifestDigest: image.digest,
        manifestSize: image.manifestBytes.length,
        imageId: image.id,
        configSize: image.configBytes.length,
        layers: targetLayers[ti]!,
        config: { section: sections.length - 2, base: meta.base },
        manifest: { section: sections.length - 1, base: meta.base },
      });
    }
    // Layer numbers in sections are positions in baseLayers; requires lists them all, marking what is needed.
    const header: PatchHeader = {
      format: 'layerwise-patch',
      version: PATCH_VERSION,
      kind: opts.kind,
      tool: opts.tool ?? 'layerwise',
      created: new Date().toISOString(),
      requires: {
        layers: requiresFrom.map((l, i) => ({ diffId: l.diffId, size: l.uncompressedSize ?? index.layers[index.byDiffId.get(l.diffId) ?? -1]?.size ?? 0, ...(used.has(i) ? {} : { unused: true }) })),
        baseImages: olds.map((o) => ({ imageId: o.id, manifestDigest: o.digest, reference: o.reference })),
      },
      layers,
      targets: patchTargets,
      sections,
      stats,
      ...(opts.env ? { env: opts.env } : {}),
    };
    const preamble = encodePatchPreamble(header);
    let total = 0;
    await writeAtomically(
      opts.output,
      async (tmp) => {
        const out = await open(tmp, 'wx');
        try {
          await out.write(preamble, 0, preamble.length, 0);
          const buf = Buffer.allocUnsafe(1 << 20);
          let pos = 0;
          while (pos < bodyLen) {
            const { bytesRead } = await body.read(buf, 0, Math.min(buf.length, bodyLen - pos), pos);
            await out.write(buf, 0, bytesRead, preamble.length + pos);
            pos += bytesRead;
          }
          total = preamble.length + bodyLen;
          await out.sync();
        } finally {
          await out.close();
        }
      },
      { overwrite: true },
    );
    await body.close();
    return { output: opts.output, bytes: total, header, streamBytes };
  } finally {
    await index.close();
    for (const img of opened) await img.close();
    await rm(tmpDir, { recursive: true, force: true });
  }
}

/** Visits every rebuilt layer once, reading each target image in one scan (engines: one pass). */
async function eachRebuiltLayer(targets: { image: Image }[], rebuilt: ReadonlySet<Digest>, visit: (l: Layer, tar: Readable) => Promise<void>): Promise<void> {
  const todo = new Set(rebuilt);
  for (const { image } of targets) {
    const want = new Set([...todo].filter((d) => image.layers.some((l) => l.diffId === d)));
    if (want.size === 0) continue;
    await scanLayers(image, async (l, tar) => {
      todo.delete(l.diffId);
      await visit(l, tar);
    }, want);
  }
  if (todo.size > 0) throw new LayerwiseError('INTERNAL', `layers ${[...todo].join(', ')} were not delivered by their source`);
}

async function isSeekable(l: Layer): Promise<boolean> {
  const ra = l.randomAccess ? await l.randomAccess() : undefined;
  await ra?.close();
  return !!ra;
}

/** How the site will make each target blob. */
async function blobRecipe(l: Layer, baseLayers: Layer[]): Promise<BlobRecipe> {
  if (l.descriptor.digest === l.diffId) return { kind: 'same' };
  if (baseLayers.some((b) => b.descriptor.digest === l.descriptor.digest)) return { kind: 'base-blob' };
  if (l.compression === 'gzip') return gzipRecipe(l);
  return { kind: 'recompress', compression: l.compression === 'zstd' ? 'zstd' : 'gzip' };
}
