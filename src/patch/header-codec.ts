import { LayerwiseError } from '../errors.js';
import { BLOCK } from '../tar/header.js';
import type { ByteWriter } from '../delta/bytes.js';
import type { Cursor } from '../delta/cursor.js';

/**
 * Tar headers of a rebuilt layer, coded against the header of the same path in a layer the site has.
 * Rebuilt layers differ mostly in mtimes and sizes; those become a few varints (mtime as a difference,
 * which is the same number for every entry a build step touched), and the checksum is recomputed.
 * Anything the field model cannot reproduce byte for byte falls back to XOR with the reference, or to
 * the raw bytes: exactness first, then size.
 */
export const HDR_FIELDS = 0;
export const HDR_XOR = 1;
export const HDR_RAW = 2;

// Field bits in the first varint of a FIELDS header.
const F_MTIME = 1;
const F_SIZE = 2;
const F_MODE = 4;
const F_UIDGID = 8;
const F_NAME = 16; // name, prefix and linkname as raw field bytes
const F_OTHER = 32; // typeflag, uname, gname, devmajor, devminor as raw field bytes

interface NumericField {
  start: number;
  len: number;
}
const MODE: NumericField = { start: 100, len: 8 };
const UID: NumericField = { start: 108, len: 8 };
const GID: NumericField = { start: 116, len: 8 };
const SIZE: NumericField = { start: 124, len: 12 };
const MTIME: NumericField = { start: 136, len: 12 };
const CHKSUM: NumericField = { start: 148, len: 8 };
const NAME_RANGES: [number, number][] = [[0, 100], [157, 257], [345, 500]];
const OTHER_RANGES: [number, number][] = [[156, 157], [265, 345]];

/** The octal layout of a field: leading char, digit count, trailer bytes. Undefined when not plain octal. */
function octalStyle(block: Uint8Array, f: NumericField): { lead: number; digits: number; trail: Uint8Array } | undefined {
  let i = f.start;
  const end = f.start + f.len;
  if (block[i]! & 0x80) return undefined; // base-256
  let lead = 0;
  while (i < end && block[i] === 0x20) {
    i++;
    lead++;
  }
  let digits = 0;
  while (i < end && block[i]! >= 0x30 && block[i]! <= 0x37) {
    i++;
    digits++;
  }
  if (digits === 0) return undefined;
  const trail = block.subarray(i, end);
  for (const b of trail) if (b !== 0 && b !== 0x20) return undefined;
  return { lead, digits, trail };
}

function readOctal(block: Uint8Array, f: NumericField): number | undefined {
  const st = octalStyle(block, f);
  if (!st) return undefined;
  let v = 0;
  for (let i = f.start + st.lead; i < f.start + st.lead + st.digits; i++) v = v * 8 + (block[i]! - 0x30);
  return v;
}

/** Writes `value` into field f of `out` in the octal style the reference block uses. False if it cannot. */
function writeLike(out: Uint8Array, ref: Uint8Array, f: NumericField, value: number): boolean {
  const st = octalStyle(ref, f);
  if (!st || value < 0 || !Number.isSafeInteger(value)) return false;
  const text = value.toString(8);
  if (text.length > st.digits) return false;
  const digits = text.padStart(st.digits, '0');
  let i = f.start;
  for (let k = 0; k < st.lead; k++) out[i++] = 0x20;
  for (let k = 0; k < digits.length; k++) out[i++] = digits.charCodeAt(k);
  out.set(st.trail, i);
  return true;
}

function checksumOf(block: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}

function rangesEqual(a: Uint8Array, b: Uint8Array, ranges: [number, number][]): boolean {
  for (const [s, e] of ranges) for (let i = s; i < e; i++) if (a[i] !== b[i]) return false;
  return true;
}

function numericEqual(a: Uint8Array, b: Uint8Array, f: NumericField): boolean {
  for (let i = f.start; i < f.start + f.len; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Rebuilds a main header block from the reference and field values; undefined if the style does not allow it. */
function buildMain(ref: Uint8Array, patch: { mtime?: number; size?: number; mode?: number; uid?: number; gid?: number; names?: Uint8Array[]; other?: Uint8Array[] }): Buffer | undefined {
  const out = Buffer.from(ref);
  if (patch.mtime !== undefined && !writeLike(out, ref, MTIME, patch.mtime)) return undefined;
  if (patch.size !== undefined && !writeLike(out, ref, SIZE, patch.size)) return undefined;
  if (patch.mode !== undefined && !writeLike(out, ref, MODE, patch.mode)) return undefined;
  if (patch.uid !== undefined && !writeLike(out, ref, UID, patch.uid)) return undefined;
  if (patch.gid !== undefined && !writeLike(out, ref, GID, patch.gid)) return undefined;
  if (patch.names) NAME_RANGES.forEach(([s], i) => out.set(patch.names![i]!, s));
  if (patch.other) OTHER_RANGES.forEach(([s], i) => out.set(patch.other![i]!, s));
  if (!writeLike(out, ref, CHKSUM, checksumOf(out))) return undefined;
  return out;
}

export interface HeaderStreams {
  fields: ByteWriter;
  raw: ByteWriter;
}

/**
 * Encodes header bytes `h` against reference header bytes `ref` (or none). Returns the mode; the
 * fields or bytes go to the streams. The result is verified: decoding gives back exactly `h`.
 */
export function encodeHeader(h: Uint8Array, ref: Uint8Array | undefined, out: HeaderStreams): number {
  if (ref && ref.length === h.length) {
    const ext = h.length - BLOCK;
    let extSame = true;
    for (let i = 0; i < ext; i++) if (h[i] !== ref[i]) {
      extSame = false;
      break;
    }
    if (extSame) {
      const hm = h.subarray(ext);
      const rm = ref.subarray(ext);
      const patch: Parameters<typeof buildMain>[1] = {};
      let bits = 0;
      const num = (f: NumericField, bit: number, key: 'mtime' | 'size' | 'mode' | 'uid' | 'gid') => {
        if (numericEqual(hm, rm, f)) return true;
        const v = readOctal(hm, f);
        if (v === undefined) return false;
        patch[key] = v;
        bits |= bit;
        return true;
      };
      let ok = num(MTIME, F_MTIME, 'mtime') && num(SIZE, F_SIZE, 'size') && num(MODE, F_MODE, 'mode');
      if (ok && (!numericEqual(hm, rm, UID) || !numericEqual(hm, rm, GID))) {
        const u = readOctal(hm, UID);
        const g = readOctal(hm, GID);
        if (u === undefined || g === undefined) ok = false;
        else {
          patch.uid = u;
          patch.gid = g;
          bits |= F_UIDGID;
        }
      }
      if (ok && !rangesEqual(hm, rm, NAME_RANGES)) {
        patch.names = NAME_RANGES.map(([s, e]) => hm.subarray(s, e));
        bits |= F_NAME;
      }
      if (ok && !rangesEqual(hm, rm, OTHER_RANGES)) {
        patch.other = OTHER_RANGES.map(([s, e]) => hm.subarray(s, e));
        bits |= F_OTHER;
      }
      if (ok) {
        const rebuilt = buildMain(rm, patch);
        if (rebuilt && rebuilt.equals(hm)) {
          const f = out.fields;
          f.uint(bits);
          const refMtime = readOctal(rm, MTIME) ?? 0;
          const refSize = readOctal(rm, SIZE) ?? 0;
          if (bits & F_MTIME) f.int(patch.mtime! - refMtime);
          if (bits & F_SIZE) f.int(patch.size! - refSize);
          if (bits & F_MODE) f.uint(patch.mode!);
          if (bits & F_UIDGID) {
            f.uint(patch.uid!);
            f.uint(patch.gid!);
          }
          if (bits & F_NAME) for (const n of patch.names!) rawField(f, n);
          if (bits & F_OTHER) for (const n of patch.other!) rawField(f, n);
          return HDR_FIELDS;
        }
      }
    }
    // Same length, other differences (extension records changed, unusual formatting): XOR.
    out.raw.uint(h.length / BLOCK);
    const x = Buffer.allocUnsafe(h.length);
    for (let i = 0; i < h.length; i++) x[i] = h[i]! ^ ref[i]!;
    out.raw.bytes(x);
    return HDR_XOR;
  }
  out.raw.uint(h.length / BLOCK);
  out.raw.bytes(h);
  return HDR_RAW;
}

/** A fixed-width text field: its used length (up to the first trailing NUL run) and bytes. */
function rawField(f: ByteWriter, bytes: Uint8Array): void {
  let n = bytes.length;
  while (n > 0 && bytes[n - 1] === 0) n--;
  f.uint(n);
  f.bytes(bytes.subarray(0, n));
}

async function readRawField(r: Cursor, width: number): Promise<Uint8Array> {
  const n = await r.uint();
  if (n > width) throw new LayerwiseError('PATCH_CORRUPT', `header field of ${n} bytes exceeds ${width}`);
  const out = new Uint8Array(width);
  out.set(await r.bytes(n));
  return out;
}

export interface HeaderInput {
  fields: Cursor;
  raw: Cursor;
}

export async function decodeHeader(mode: number, ref: Uint8Array | undefined, input: HeaderInput): Promise<Buffer> {
  if (mode === HDR_RAW || mode === HDR_XOR) {
    const blocks = await input.raw.uint();
    if (blocks < 1 || blocks > 4096) throw new LayerwiseError('PATCH_CORRUPT', `header of ${blocks} blocks`);
    const bytes = await input.raw.bytes(blocks * BLOCK);
    if (mode === HDR_RAW) return Buffer.from(bytes);
    if (!ref || ref.length !== bytes.length) throw new LayerwiseError('PATCH_CORRUPT', 'XOR header without a matching reference');
    const out = Buffer.allocUnsafe(bytes.length);
    for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]! ^ ref[i]!;
    return out;
  }
  if (mode !== HDR_FIELDS || !ref) throw new LayerwiseError('PATCH_CORRUPT', `header mode ${mode} without a reference`);
  const f = input.fields;
  const bits = await f.uint();
  const ext = ref.length - BLOCK;
  const rm = ref.subarray(ext);
  const patch: Parameters<typeof buildMain>[1] = {};
  if (bits & F_MTIME) patch.mtime = (readOctal(rm, MTIME) ?? 0) + (await f.int());
  if (bits & F_SIZE) patch.size = (readOctal(rm, SIZE) ?? 0) + (await f.int());
  if (bits & F_MODE) patch.mode = await f.uint();
  if (bits & F_UIDGID) {
    patch.uid = await f.uint();
    patch.gid = await f.uint();
  }
  if (bits & F_NAME) {
    patch.names = [];
    for (const [s, e] of NAME_RANGES) patch.names.push(await readRawField(f, e - s));
  }
  if (bits & F_OTHER) {
    patch.other = [];
    for (const [s, e] of OTHER_RANGES) patch.other.push(await readRawField(f, e - s));
  }
  const main = buildMain(rm, patch);
  if (!main) throw new LayerwiseError('PATCH_CORRUPT', 'header fields do not fit the reference header');
  return ext > 0 ? Buffer.concat([ref.subarray(0, ext), main]) : main;
}
