import { createHash } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LayerwiseError } from '../errors.js';
import type { Digest } from '../model/digest.js';
import type { Image, Layer } from '../model/image.js';
import { openImage, type OpenOptions } from '../transports/index.js';
import { writeAtomically } from '../stream/atomic.js';
import type { Progress } from '../progress.js';
import { emptyStats, encodePatchPreamble, PATCH_VERSION, type BlobRecipe, type PatchHeader, type PatchLayer, type SectionInfo } from './format.js';
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

/**
 * Makes a patch that turns the `from` images (what the site has) into `to`. Reads every base layer once
 * (indexing files by path and content) and every new layer the site lacks once (encoding it), each as a
 * verified stream.
 */
export async function createPatch(opts: CreatePatchOptions): Promise<CreatePatchResult> {
  const opened: Image[] = [];
  const own = async (ref: string | Image) => {
    if (typeof ref !== 'string') return ref;
    const img = await openImage(ref, opts.open);
    opened.push(img);
    return img;
  };
  const tmpDir = await mkdtemp(path.join(process.env.LAYERWISE_TMPDIR || os.tmpdir(), 'layerwise-create-'));
  const index = new OldIndex();
  try {
    if (opts.from.length === 0) throw new LayerwiseError('USAGE', 'patch create needs at least one --from image (what the site has)');
    const olds: Image[] = [];
    for (const f of opts.from) olds.push(await own(f));
    const target = await own(opts.to);

    // Base layers in image order, once per diffID.
    const baseLayers: Layer[] = [];
    const seen = new Set<Digest>();
    for (const img of olds) for (const l of img.layers) if (!seen.has(l.diffId)) {
      seen.add(l.diffId);
      baseLayers.push(l);
    }
    const stats = emptyStats();
    const rebuilt = target.layers.filter((l) => !seen.has(l.diffId));
    // Every base layer is indexed when something must be rebuilt: its files may be referenced from anywhere.
    for (const l of baseLayers) if (rebuilt.length > 0) await index.add(l, opts.progress);
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

    const layers: PatchLayer[] = [];
    const decodedSize = new Map<Digest, number>();
    for (let i = 0; i < target.layers.length; i++) {
      const l = target.layers[i]!;
      const blob = await blobRecipe(l, baseLayers);
      if (seen.has(l.diffId)) {
        stats.reusedLayers++;
        const bi = baseLayers.findIndex((b) => b.diffId === l.diffId);
        used.add(bi);
        const known = index.layers[index.byDiffId.get(l.diffId) ?? -1];
        layers.push({ diffId: l.diffId, size: l.uncompressedSize ?? (known ? sizeOfIndexed(known) : 0), descriptor: l.descriptor, source: { kind: 'base' }, blob });
        continue;
      }
      const already = layers.find((p) => p.diffId === l.diffId && p.source.kind === 'rebuilt');
      if (already) {
        // The same layer twice in one image: rebuild it once.
        layers.push({ ...already, descriptor: l.descriptor, blob });
        continue;
      }
      stats.rebuiltLayers++;
      const section = new SectionWriter(tmpDir);
      const res = await encodeLayer(l, index, section, stats, tmpDir, opts.progress);
      decodedSize.set(l.diffId, res.size);
      const hash = createHash('sha256');
      const { length, streamBytes: sb } = await section.finish(async (c) => {
        hash.update(c);
        await writeBody(c);
      });
      for (const [k, v] of Object.entries(sb)) streamBytes[k] = (streamBytes[k] ?? 0) + v;
      sections.push({ kind: 'layer', length, digest: `sha256:${hash.digest('hex')}` as Digest });
      layers.push({ diffId: l.diffId, size: res.size, descriptor: l.descriptor, source: { kind: 'rebuilt', section: sections.length - 1 }, blob });
    }
    for (const u of index.usedLayers()) used.add(u);

    const targetInfo: PatchHeader['target'] = {
      reference: target.reference,
      names: [...target.names],
      mediaType: target.mediaType,
      manifestDigest: target.digest,
      manifestSize: target.manifestBytes.length,
      imageId: target.id,
      configSize: target.configBytes.length,
    };
    const dict = digestDictionary({ layers, target: targetInfo });
    // Config and manifest against whichever base image codes them smallest.
    let best: { base: number; config: Buffer; manifest: Buffer } | undefined;
    olds.forEach((o, bi) => {
      const config = encodeMetadata(o.configBytes, dict, target.configBytes);
      const manifest = encodeMetadata(o.manifestBytes, dict, target.manifestBytes);
      if (!best || config.length + manifest.length < best.config.length + best.manifest.length) best = { base: bi, config, manifest };
    });
    const meta = best!;
    for (const [kind, bytes] of [['config', meta.config], ['manifest', meta.manifest]] as const) {
      await writeBody(bytes);
      sections.push({ kind, length: bytes.length, digest: `sha256:${sha256hex(bytes)}` as Digest });
      stats.metadataBytes += bytes.length;
    }
    // Layer numbers in sections are positions in baseLayers; requires lists them all, marking what is needed.
    const header: PatchHeader = {
      format: 'layerwise-patch',
      version: PATCH_VERSION,
      tool: opts.tool ?? 'layerwise',
      created: new Date().toISOString(),
      target: targetInfo,
      requires: {
        layers: baseLayers.map((l, i) => ({ diffId: l.diffId, size: l.uncompressedSize ?? sizeOfIndexed(index.layers[index.byDiffId.get(l.diffId) ?? -1]), ...(used.has(i) ? {} : { unused: true }) })),
        baseImages: olds.map((o) => ({ imageId: o.id, manifestDigest: o.digest, reference: o.reference })),
      },
      layers,
      config: { section: sections.length - 2, base: meta.base },
      manifest: { section: sections.length - 1, base: meta.base },
      sections,
      stats,
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

function sizeOfIndexed(l: { size: number } | undefined): number {
  return l?.size ?? 0;
}

/** How the site will make each target blob. */
async function blobRecipe(l: Layer, baseLayers: Layer[]): Promise<BlobRecipe> {
  if (l.descriptor.digest === l.diffId) return { kind: 'same' };
  if (baseLayers.some((b) => b.descriptor.digest === l.descriptor.digest)) return { kind: 'base-blob' };
  if (l.compression === 'gzip') return gzipRecipe(l);
  return { kind: 'recompress', compression: l.compression === 'zstd' ? 'zstd' : 'gzip' };
}
