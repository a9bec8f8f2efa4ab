import { compress as zstdCompress } from 'zstd-napi';
import { zstdDecompressLimited } from '../stream/zstd.js';
import { LayerwiseError } from '../errors.js';
import type { Descriptor } from '../model/descriptor.js';
import { parseDigest, sha256, type Digest } from '../model/digest.js';
import type { RandomAccess } from '../stream/random-access.js';

/**
 * The layerwise patch format, version 1 (docs/patch-format.md):
 *
 *   "LWPATCH1"                      8 bytes magic
 *   u32 big-endian                  length H of the header
 *   header                          H bytes: zstd-compressed JSON (PatchHeader)
 *   sha256(header)                  32 bytes
 *   section 0 .. section N-1        in the order apply consumes them; each covered by a sha256 in the header
 *
 * Sections come in apply order (rebuilt layers first to last, then config, then manifest), so a reader
 * can apply a patch while reading it front to back.
 */
export const PATCH_MAGIC = Buffer.from('LWPATCH1', 'latin1');
export const PATCH_VERSION = 1;
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;
/** Upper bound of the header JSON once decompressed (real ones are kilobytes to a few MB). */
export const MAX_HEADER_JSON_BYTES = 256 * 1024 * 1024;

export interface SectionInfo {
  kind: 'layer' | 'config' | 'manifest';
  length: number;
  digest: Digest;
}

/** How the site makes the blob the target manifest lists for a layer. */
export type BlobRecipe =
  | { kind: 'same' } // the blob is the uncompressed tar itself (digest == diffID)
  | { kind: 'base-blob' } // the site has this exact compressed blob in its base image
  | { kind: 'gzip'; level: number; header: string } // zlib gzip at this level reproduces it byte for byte
  | { kind: 'recompress'; compression: 'gzip' | 'zstd' }; // cannot be reproduced: recompressed, digest changes

/** A layer of one or more targets, stored once per patch: the site has it, or a section rebuilds it. */
export interface PatchLayer {
  diffId: Digest;
  size: number; // uncompressed size
  /** 'base': the site has this layer (by diffID); otherwise the index of the section that rebuilds it. */
  source: { kind: 'base' } | { kind: 'rebuilt'; section: number };
}

/** One layer of a target image: which patch layer, and the blob the target's manifest lists. */
export interface TargetLayer {
  layer: number; // index into PatchHeader.layers
  descriptor: Descriptor;
  blob: BlobRecipe;
}

/** An image the patch rebuilds. A patch has one; a release bundle has one per image of the deployment. */
export interface PatchTarget {
  reference: string;
  names: string[];
  /** For bundles: the compose service(s) this image is deployed as. */
  services?: string[];
  /** For bundles: the image the site had before, for reports. */
  from?: string;
  mediaType: string;
  manifestDigest: Digest;
  manifestSize: number;
  imageId: Digest;
  configSize: number;
  layers: TargetLayer[];
  /** Sections for config and manifest, and the base image (index in requires.baseImages) they are coded against. */
  config: { section: number; base: number };
  manifest: { section: number; base: number };
}

export interface PatchHeader {
  format: 'layerwise-patch';
  version: number;
  kind: 'patch' | 'bundle';
  tool: string;
  created: string;
  /** Exactly what the site must have: layers by diffID (with their uncompressed sizes). */
  requires: { layers: { diffId: Digest; size: number; unused?: boolean }[]; baseImages: { imageId: Digest; manifestDigest: Digest; reference: string }[] };
  /** Every layer of every target, once per diffID. */
  layers: PatchLayer[];
  targets: PatchTarget[];
  sections: SectionInfo[];
  /** Bytes by kind, for `patch inspect`. */
  stats: PatchStats;
  /** For bundles made from compose files: the variables that change (e.g. TAG=1.0.1), for `bundle apply --env-file`. */
  env?: Record<string, string>;
}

export interface PatchStats {
  reusedLayers: number;
  rebuiltLayers: number;
  reusedFiles: number;
  reusedFileBytes: number;
  deltaFiles: number;
  deltaTargetBytes: number;
  deltaBytes: number;
  newFiles: number;
  newDataBytes: number;
  literalBytes: number;
  metadataBytes: number;
  entries: number;
  /** Files taken out of archives (.debs, tarballs) of the same layer. */
  archiveFiles?: number;
  archiveFileBytes?: number;
}

export function emptyStats(): PatchStats {
  return { reusedLayers: 0, rebuiltLayers: 0, reusedFiles: 0, reusedFileBytes: 0, deltaFiles: 0, deltaTargetBytes: 0, deltaBytes: 0, newFiles: 0, newDataBytes: 0, literalBytes: 0, metadataBytes: 0, entries: 0 };
}

export function encodePatchPreamble(header: PatchHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const body = zstdCompress(json, { compressionLevel: 19 });
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([PATCH_MAGIC, len, body, Buffer.from(sha256(body).slice(7), 'hex')]);
}

export interface OpenedPatch {
  header: PatchHeader;
  /** Offset of section i in the file. */
  sectionOffsets: number[];
  totalBytes: number;
}

/** Reads and checks the preamble: magic, header digest, version, section table against the file size. */
export async function readPatchPreamble(ra: RandomAccess, subject: string): Promise<OpenedPatch> {
  if (ra.size < 12 + 32) throw new LayerwiseError('PATCH_INVALID', `${subject}: too short to be a layerwise patch`, { subject });
  const head = await ra.read(0, 12);
  if (!head.subarray(0, 8).equals(PATCH_MAGIC)) {
    throw new LayerwiseError('PATCH_INVALID', `${subject}: not a layerwise patch (bad magic)`, { subject });
  }
  const hlen = head.readUInt32BE(8);
  if (hlen > MAX_HEADER_BYTES || 12 + hlen + 32 > ra.size) {
    throw new LayerwiseError('PATCH_CORRUPT', `${subject}: header length ${hlen} does not fit the file (truncated?)`, { subject });
  }
  const body = await ra.read(12, hlen);
  const digest = await ra.read(12 + hlen, 32);
  if (sha256(body).slice(7) !== digest.toString('hex')) {
    throw new LayerwiseError('PATCH_CORRUPT', `${subject}: patch header does not match its digest (corrupt)`, { subject });
  }
  let header: PatchHeader;
  try {
    header = JSON.parse(zstdDecompressLimited(body, MAX_HEADER_JSON_BYTES, `${subject}: header`).toString('utf8')) as PatchHeader;
  } catch (err) {
    throw new LayerwiseError('PATCH_CORRUPT', `${subject}: unreadable patch header (${(err as Error).message})`, { subject });
  }
  if (!header || typeof header !== 'object' || Array.isArray(header) || header.format !== 'layerwise-patch') throw new LayerwiseError('PATCH_INVALID', `${subject}: not a layerwise patch header`, { subject });
  if (header.version !== PATCH_VERSION) {
    throw new LayerwiseError('PATCH_VERSION', `${subject}: patch format version ${header.version}; this layerwise reads version ${PATCH_VERSION}`, { subject });
  }
  checkHeaderShape(header, subject);
  const offsets: number[] = [];
  let at = 12 + hlen + 32;
  for (const s of header.sections) {
    offsets.push(at);
    at += s.length;
  }
  if (at !== ra.size) {
    throw new LayerwiseError('PATCH_CORRUPT', `${subject}: sections end at byte ${at} but the file has ${ra.size} (truncated or extended)`, { subject });
  }
  return { header, sectionOffsets: offsets, totalBytes: ra.size };
}

/**
 * Validates the whole shape of a parsed header (types, digests, indexes) before anything uses it as a
 * path, an offset or a loop bound. The header's digest only proves it is what its maker wrote.
 */
function checkHeaderShape(h: PatchHeader, subject: string): void {
  const bad = (what: string): never => {
    throw new LayerwiseError('PATCH_INVALID', `${subject}: malformed patch header (${what})`, { subject });
  };
  const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  const isIndex = (v: unknown, length: number) => isCount(v) && (v as number) < length;
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  const req = h.requires as unknown;
  if (!isObject(req) || !Array.isArray(req.layers) || !Array.isArray(req.baseImages)) bad('requires');
  if (!Array.isArray(h.targets) || h.targets.length === 0 || !Array.isArray(h.layers) || !Array.isArray(h.sections)) bad('missing fields');
  if (h.kind !== 'patch' && h.kind !== 'bundle') bad('kind');
  if (!isObject(h.stats)) bad('stats');
  if (h.env !== undefined && (!isObject(h.env) || !Object.values(h.env).every((v) => typeof v === 'string'))) bad('env');
  for (const s of h.sections as unknown[]) {
    if (!isObject(s) || (s.kind !== 'layer' && s.kind !== 'config' && s.kind !== 'manifest') || !isCount(s.length)) bad('section');
    parseDigest((s as Record<string, unknown>).digest, `${subject}: section digest`);
  }
  for (const r of h.requires.layers as unknown[]) {
    if (!isObject(r) || !isCount(r.size) || (r.unused !== undefined && typeof r.unused !== 'boolean')) bad('requires.layers');
    parseDigest((r as Record<string, unknown>).diffId, `${subject}: requires.layers`);
  }
  for (const b of h.requires.baseImages as unknown[]) {
    if (!isObject(b) || typeof b.reference !== 'string') bad('requires.baseImages');
    parseDigest((b as Record<string, unknown>).imageId, `${subject}: base imageId`);
    parseDigest((b as Record<string, unknown>).manifestDigest, `${subject}: base manifestDigest`);
  }
  for (const l of h.layers as unknown[]) {
    if (!isObject(l) || !isCount(l.size) || !isObject(l.source)) bad('layer');
    const { diffId, source } = l as unknown as PatchLayer;
    parseDigest(diffId, `${subject}: layer diffId`);
    if (source.kind === 'rebuilt') {
      if (!isIndex(source.section, h.sections.length) || h.sections[source.section]!.kind !== 'layer') bad('layer section index');
    } else if (source.kind !== 'base') bad('layer source');
  }
  for (const t of h.targets as unknown[]) {
    if (!isObject(t) || typeof t.reference !== 'string' || !strings(t.names) || typeof t.mediaType !== 'string' || !isCount(t.manifestSize) || !isCount(t.configSize) || !Array.isArray(t.layers)) bad('target');
    if ((t as Record<string, unknown>).services !== undefined && !strings((t as Record<string, unknown>).services)) bad('target services');
    const target = t as unknown as PatchTarget;
    parseDigest(target.imageId, `${subject}: target imageId`);
    parseDigest(target.manifestDigest, `${subject}: target manifestDigest`);
    for (const tl of target.layers as unknown[]) {
      if (!isObject(tl) || !isIndex(tl.layer, h.layers.length) || !isObject(tl.descriptor) || !isObject(tl.blob)) bad('target layer');
      const { descriptor, blob } = tl as unknown as TargetLayer;
      if (typeof descriptor.mediaType !== 'string' || !isCount(descriptor.size)) bad('target layer descriptor');
      parseDigest(descriptor.digest, `${subject}: target layer digest`);
      const ok =
        blob.kind === 'same' ||
        blob.kind === 'base-blob' ||
        (blob.kind === 'gzip' && Number.isInteger(blob.level) && blob.level >= 0 && blob.level <= 9 && typeof blob.header === 'string') ||
        (blob.kind === 'recompress' && (blob.compression === 'gzip' || blob.compression === 'zstd'));
      if (!ok) bad('target layer blob');
    }
    for (const k of ['config', 'manifest'] as const) {
      const ref = target[k] as unknown;
      if (!isObject(ref) || !isIndex(ref.section, h.sections.length) || h.sections[ref.section as number]!.kind !== k || !isIndex(ref.base, h.requires.baseImages.length)) bad(`${k} section`);
    }
  }
}

/** Reads a section and checks its digest. */
export async function readSection(ra: RandomAccess, patch: OpenedPatch, index: number, subject: string): Promise<Buffer> {
  const info = patch.header.sections[index]!;
  const bytes = await ra.read(patch.sectionOffsets[index]!, info.length);
  if (sha256(bytes) !== info.digest) {
    throw new LayerwiseError('PATCH_CORRUPT', `${subject}: ${info.kind} section ${index} does not match its digest (corrupt)`, { subject });
  }
  return bytes;
}
