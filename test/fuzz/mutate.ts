import fc from 'fast-check';
import { BLOCK } from '../../src/tar/header.js';
import { setChecksum } from '../../src/tar/writer.js';

/** One edit of a byte string; positions wrap around its length. */
export type Mutation =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; from: number; to: number; len: number }
  | { kind: 'field'; block: number; offset: number; text: string }
  | { kind: 'base256'; block: number; offset: number; len: number; bytes: Uint8Array };

/** Offsets of the numeric and name fields of a tar header, where hostile values do the most. */
const FIELDS = [0, 100, 108, 116, 124, 136, 148, 156, 157, 257, 263, 265, 297, 329, 337, 345];

const interesting = fc.constantFrom('0', '7', '00000000000', '77777777777', '-1', '1e9', ' 12 34', '\0', '../', '/', '..\\', 'C:', '.wh.', '.wh..wh..opq', 'x'.repeat(100), '9007199254740993', '\u00e9', 'e\u0301');

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0, 0x20, 0x2f, 0x2e, 0x30, 0x37, 0x38, 0x80, 0xff) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 1100 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 1100 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('splice' as const), from: fc.nat(), to: fc.nat(), len: fc.integer({ min: 1, max: 2048 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('field' as const), block: fc.nat(), offset: fc.constantFrom(...FIELDS), text: fc.oneof(interesting, fc.string({ maxLength: 24 })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('base256' as const), block: fc.nat(), offset: fc.constantFrom(100, 108, 116, 124, 136), len: fc.constantFrom(8, 12), bytes: fc.uint8Array({ minLength: 12, maxLength: 12 }) }) },
);

export function applyMutations(input: Uint8Array, muts: readonly Mutation[]): Buffer {
  let b = Buffer.from(input);
  for (const m of muts) {
    const n = b.length;
    switch (m.kind) {
      case 'flip':
        if (n) b[m.at % n]! ^= m.mask;
        break;
      case 'set':
        if (n) b[m.at % n] = m.value;
        break;
      case 'insert': {
        const at = n ? m.at % (n + 1) : 0;
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      }
      case 'delete': {
        if (!n) break;
        const at = m.at % n;
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(n, at + m.len))]);
        break;
      }
      case 'truncate':
        b = b.subarray(0, n ? m.at % n : 0);
        break;
      case 'splice': {
        if (!n) break;
        const from = m.from % n;
        const piece = Buffer.from(b.subarray(from, Math.min(n, from + m.len)));
        const to = m.to % n;
        b = Buffer.concat([b.subarray(0, to), piece, b.subarray(to)]);
        break;
      }
      case 'field':
      case 'base256': {
        const blocks = Math.floor(n / BLOCK);
        if (!blocks) break;
        const at = (m.block % blocks) * BLOCK + m.offset;
        const bytes = m.kind === 'field' ? Buffer.from(m.text, 'utf8') : Buffer.from([0x80 | (m.bytes[0]! & 0x7f), ...m.bytes.subarray(1)]);
        const len = m.kind === 'field' ? Math.min(bytes.length, BLOCK - m.offset) : m.len;
        b = Buffer.from(b);
        bytes.copy(b, at, 0, len);
        break;
      }
    }
  }
  return b;
}

/** Recomputes the checksum of every block that looks like a ustar header, so mutations reach past the checksum. */
export function fixChecksums(b: Buffer): Buffer {
  const out = Buffer.from(b);
  for (let at = 0; at + BLOCK <= out.length; at += BLOCK) {
    if (out.toString('latin1', at + 257, at + 262) === 'ustar') {
      const block = out.subarray(at, at + BLOCK);
      setChecksum(block);
    }
  }
  return out;
}

/** Splits a buffer into chunks of the given sizes (cycling), as a stream would deliver it. */
export function chunks(b: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  for (let at = 0; at < b.length; i++) {
    const n = Math.max(1, sizes.length ? sizes[i % sizes.length]! : b.length);
    out.push(b.subarray(at, at + n));
    at += n;
  }
  return out;
}
