import { compress as zstdCompress } from 'zstd-napi';
import { zstdDecompressLimited } from '../stream/zstd.js';
import { LayerwiseError } from '../errors.js';
import { ByteWriter } from '../delta/bytes.js';
import { MemoryCursor } from '../delta/cursor.js';
import { decodeDelta } from '../delta/decode.js';
import { encodeDelta } from '../delta/encode.js';
import type { PatchHeader, PatchTarget } from './format.js';

/**
 * Config and manifest are small JSON documents that mostly repeat the base image's, except for digests
 * of the new layers (which the patch header already carries) and timestamps. They are delta-coded
 * against the base's bytes followed by a dictionary of every digest the header names, so a new diffID
 * costs a few bytes of COPY instead of 64 hex characters.
 */
export function digestDictionary(layers: PatchHeader['layers'], t: Pick<PatchTarget, 'layers' | 'imageId' | 'configSize'>): Buffer {
  const parts: string[] = [];
  for (const tl of t.layers) {
    const l = layers[tl.layer]!;
    parts.push(`"${l.diffId}"`, `"${tl.descriptor.digest}"`, `"size":${tl.descriptor.size}`, `"size":${l.size}`);
  }
  parts.push(`"${t.imageId}"`, `"size":${t.configSize}`, t.imageId.slice(7));
  for (const tl of t.layers) parts.push(layers[tl.layer]!.diffId.slice(7), tl.descriptor.digest.slice(7));
  return Buffer.from('\n' + parts.join('\n'));
}

export function encodeMetadata(base: Buffer, dictionary: Buffer, target: Buffer): Buffer {
  const source = Buffer.concat([base, dictionary]);
  const out = { ops: new ByteWriter(), diff: new ByteWriter(), add: new ByteWriter() };
  encodeDelta(source, target, out);
  const w = new ByteWriter();
  w.uint(target.length);
  w.uint(out.ops.length);
  w.bytes(out.ops.view());
  w.uint(out.diff.length);
  w.bytes(out.diff.view());
  w.bytes(out.add.view());
  return zstdCompress(w.view(), { compressionLevel: 22 });
}

export async function decodeMetadata(base: Buffer, dictionary: Buffer, section: Buffer, subject: string): Promise<Buffer> {
  let raw: Buffer;
  try {
    // The document is at most 64 MiB; its delta (ops, diff, literals) cannot be much more.
    raw = zstdDecompressLimited(section, 256 * 1024 * 1024, subject);
  } catch (err) {
    throw new LayerwiseError('PATCH_CORRUPT', `${subject}: ${(err as Error).message}`);
  }
  const r = new MemoryCursor(raw, subject);
  const length = await r.uint();
  if (length > 64 * 1024 * 1024) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: ${length}-byte document`);
  const ops = new MemoryCursor(await r.bytes(await r.uint()), subject);
  const diff = new MemoryCursor(await r.bytes(await r.uint()), subject);
  const add = new MemoryCursor(await r.bytes(r.remaining), subject);
  const parts: Buffer[] = [];
  await decodeDelta(Buffer.concat([base, dictionary]), length, { ops, diff, add }, (c) => {
    parts.push(Buffer.from(c));
  }, subject);
  if (ops.remaining || diff.remaining || add.remaining) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: unused delta bytes`);
  return Buffer.concat(parts);
}
