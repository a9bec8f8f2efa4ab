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
import { OldIndex } from './old-index.js';
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
    const img = await openImage(ref, opts.open);
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
    const needsRebuild = targets.some((t) => t.image.layers.some((l) => !seen.has(l.diffId)));
    // Every base layer is indexed when something must be rebuilt: its files may be referenced from anywhere.
    if (needsRebuild) for (const l of baseLayers) await index.add(l, opts.progress);
    const used = new Set<number>();

    const sections: SectionInfo[] = [];
    const bodyPath = path.join(tmpDir, 'body');
    const body = await open(bodyPath, 'w+');
    let bodyLen = 0;
    const streamBytes: Record<string, number> = {};
    const writeBody = async (chunk: Buffer) => {
      await body.write(chunk, 0, chunk.length, bodyLen);
      bodyLen += chunk.length;
    };

    // The layer table: every layer of every target, once per diffID.
    const layers: PatchLayer[] = [];
    const layerIndex = new Map<Digest, number>();
    const targetLayers: TargetLayer[][] = [];
    for (const { image } of targets) {
      const tls: TargetLayer[] = [];
      for (const l of image.layers) {
        const blob = await blobRecipe(l, baseLayers);
        let li = layerIndex.get(l.diffId);
        if (li === undefined) {
          if (seen.has(l.diffId)) {
            stats.reusedLayers++;
            used.add(baseLayers.findIndex((b) => b.diffId === l.diffId));
            const known = index.layers[index.byDiffId.get(l.diffId) ?? -1];
            layers.push({ diffId: l.diffId, size: l.uncompressedSize ?? known?.size ?? 0, source: { kind: 'base' } });
          } else {
            stats.rebuiltLayers++;
            const section = new SectionWriter(tmpDir);
            const res = await encodeLayer(l, index, section, stats, tmpDir, opts.progress);
            const hash = createHash('sha256');
            const { length, streamBytes: sb } = await section.finish(async (c) => {
              hash.update(c);
              await writeBody(c);
            });
            for (const [k, v] of Object.entries(sb)) streamBytes[k] = (streamBytes[k] ?? 0) + v;
            sections.push({ kind: 'layer', length, digest: `sha256:${hash.digest('hex')}` as Digest });
            layers.push({ diffId: l.diffId, size: res.size, source: { kind: 'rebuilt', section: sections.length - 1 } });
          }
          li = layers.length - 1;
          layerIndex.set(l.diffId, li);
        }
        tls.push({ layer: li, descriptor: l.descriptor, blob });
      }
      targetLayers.push(tls);
    }
    for (const u of index.usedLayers()) used.add(u);

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
        layers: baseLayers.map((l, i) => ({ diffId: l.diffId, size: l.uncompressedSize ?? index.layers[index.byDiffId.get(l.diffId) ?? -1]?.size ?? 0, ...(used.has(i) ? {} : { unused: true }) })),
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

/** How the site will make each target blob. */
async function blobRecipe(l: Layer, baseLayers: Layer[]): Promise<BlobRecipe> {
  if (l.descriptor.digest === l.diffId) return { kind: 'same' };
  if (baseLayers.some((b) => b.descriptor.digest === l.descriptor.digest)) return { kind: 'base-blob' };
  if (l.compression === 'gzip') return gzipRecipe(l);
  return { kind: 'recompress', compression: l.compression === 'zstd' ? 'zstd' : 'gzip' };
}
