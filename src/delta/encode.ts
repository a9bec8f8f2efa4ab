import { ByteWriter } from './bytes.js';

/**
 * The binary delta encoder: turns (source, target) into instructions over three streams.
 *
 *   COPY len, srcDelta   target gets source bytes [s, s+len)
 *   DIFF len, srcDelta   target gets source bytes [s, s+len) plus one diff byte each (mod 256)
 *   ADD  len             target gets literal bytes
 *
 * s = (end of the previous COPY/DIFF source range) + srcDelta, so edits that keep alignment cost a zero.
 * COPY is xdelta's copy; DIFF is bsdiff's answer to aligned substitutions (timestamps, counters,
 * pointers): mostly-equal regions become diff bytes that are mostly zero and compress to almost
 * nothing, without the cost of long zero runs that pure bsdiff pays on identical stretches (those are
 * COPYs here). The three streams are compressed separately (zstd) by the patch writer.
 */
export interface DeltaOut {
  ops: ByteWriter;
  diff: ByteWriter;
  add: ByteWriter;
}

export const OP_COPY = 0;
export const OP_DIFF = 1;
export const OP_ADD = 2;

export interface DeltaStats {
  copied: number;
  diffed: number;
  added: number;
  ops: number;
  /** Source minus target position of the last match: where a following window should look. */
  lastOffset?: number;
}

const K = 8; // bytes hashed to find candidate matches
const MIN_MATCH = 8; // shortest match taken from the hash table
const MIN_CONTINUATION = 4; // shortest match accepted at the current alignment

function hash8(a: Uint8Array, i: number, mask: number): number {
  const lo = a[i]! | (a[i + 1]! << 8) | (a[i + 2]! << 16) | (a[i + 3]! << 24);
  const hi = a[i + 4]! | (a[i + 5]! << 8) | (a[i + 6]! << 16) | (a[i + 7]! << 24);
  return (Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi ^ (lo >>> 15), 0x85ebca77)) >>> 0 & mask;
}

/** An index of source positions by the hash of the K bytes starting there. */
export class SourceIndex {
  readonly table: Int32Array;
  readonly mask: number;

  constructor(readonly source: Uint8Array) {
    const n = source.length;
    // Every position for small sources; sparser for large ones. A step of s still finds every match of at
    // least K+s-1 bytes, and a jump far from the current alignment must be 16-32 bytes to pay off anyway.
    const step = n <= 16 << 20 ? 1 : 8;
    const slots = Math.max(1024, n / step);
    let bits = 10;
    while (1 << bits < slots * 2 && bits < 23) bits++;
    this.mask = (1 << bits) - 1;
    this.table = new Int32Array(1 << bits).fill(-1);
    // Inserted back to front so the earliest occurrence wins: aligned matches are likelier early.
    const last = n - K;
    const mask = this.mask;
    const table = this.table;
    if (step === 1 && last >= 0) {
      // The two 32-bit words of the 8-byte key slide one byte per position: one read instead of eight.
      let lo = source[last]! | (source[last + 1]! << 8) | (source[last + 2]! << 16) | (source[last + 3]! << 24);
      let hi = source[last + 4]! | (source[last + 5]! << 8) | (source[last + 6]! << 16) | (source[last + 7]! << 24);
      for (let i = last; ; ) {
        table[(Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi ^ (lo >>> 15), 0x85ebca77)) >>> 0 & mask] = i;
        if (--i < 0) break;
        hi = (hi << 8) | (lo >>> 24);
        lo = (lo << 8) | source[i]!;
      }
    } else {
      for (let i = last - (last % step); i >= 0; i -= step) table[hash8(source, i, mask)] = i;
    }
  }

  candidate(target: Uint8Array, p: number): number {
    return this.table[hash8(target, p, this.mask)]!;
  }
}

/** Shortest match worth a jump of `delta` source bytes (the varint of the jump is the cost). */
function minJumpMatch(delta: number): number {
  const a = Math.abs(delta);
  if (a < 64) return MIN_MATCH;
  if (a < 8192) return 16;
  if (a < 1 << 20) return 24;
  return 32;
}

/** Bytes compared one by one before long runs are compared in blocks (most candidates fail early). */
const SHORT_RUN = 32;
const BLOCK_RUN = 1024;

function matchForward(s: Uint8Array, si: number, t: Uint8Array, ti: number): number {
  const max = Math.min(s.length - si, t.length - ti);
  let n = 0;
  const short = Math.min(max, SHORT_RUN);
  while (n < short && s[si + n] === t[ti + n]) n++;
  if (n < short) return n;
  // Long matches (most of an edited file) are compared a block at a time by memcmp, then byte by byte.
  while (n + BLOCK_RUN <= max && Buffer.compare(s.subarray(si + n, si + n + BLOCK_RUN), t.subarray(ti + n, ti + n + BLOCK_RUN)) === 0) n += BLOCK_RUN;
  while (n < max && s[si + n] === t[ti + n]) n++;
  return n;
}

class Emitter {
  srcPos = 0; // end of the previous COPY/DIFF source range
  readonly stats: DeltaStats = { copied: 0, diffed: 0, added: 0, ops: 0 };
  constructor(private readonly out: DeltaOut, private readonly s: Uint8Array, private readonly t: Uint8Array) {}

  copy(ti: number, si: number, len: number): void {
    if (len <= 0) return;
    this.out.ops.uint(len * 4 + OP_COPY);
    this.out.ops.int(si - this.srcPos);
    this.srcPos = si + len;
    this.stats.copied += len;
    this.stats.ops++;
  }

  diff(ti: number, si: number, len: number): void {
    if (len <= 0) return;
    this.out.ops.uint(len * 4 + OP_DIFF);
    this.out.ops.int(si - this.srcPos);
    const d = this.out.diff;
    for (let i = 0; i < len; i++) d.byte((this.t[ti + i]! - this.s[si + i]!) & 0xff);
    this.srcPos = si + len;
    this.stats.diffed += len;
    this.stats.ops++;
  }

  add(ti: number, len: number): void {
    if (len <= 0) return;
    this.out.ops.uint(len * 4 + OP_ADD);
    this.out.add.bytes(this.t.subarray(ti, ti + len));
    this.stats.added += len;
    this.stats.ops++;
  }

  /** Emits a pending literal region: as DIFF against the aligned source when mostly equal, else ADD. */
  pending(ti: number, len: number, alignedSrc: number): void {
    if (len <= 0) return;
    if (alignedSrc >= 0 && alignedSrc + len <= this.s.length) {
      let equal = 0;
      for (let i = 0; i < len; i++) if (this.t[ti + i] === this.s[alignedSrc + i]) equal++;
      if (equal * 2 >= len) {
        this.diff(ti, alignedSrc, len);
        return;
      }
    }
    this.add(ti, len);
  }
}

/** How far ahead a mismatch looks for the current alignment to match again (a substitution, not a shift). */
const RESYNC = 32;

/**
 * Encodes target against source (both in memory). `alignment` is where target position 0 is expected in
 * the source (non-zero for windows of large files). Returns what it did, for statistics.
 */
export function encodeDelta(source: Uint8Array, target: Uint8Array, out: DeltaOut, index?: SourceIndex, alignment = 0): DeltaStats {
  const s = source;
  const t = target;
  const em = new Emitter(out, s, t);
  if (s.length < K || t.length < K) {
    em.add(0, t.length);
    return em.stats;
  }
  // Built on first need: files that only changed in place (caches with a new timestamp, logs) never need it.
  let idx = index;
  let p = 0; // current target position
  let lit = 0; // start of the pending literal region
  let offset = alignment; // srcPos - tgtPos of the last match: the alignment we expect to continue
  const end = t.length - K;
  while (p <= end) {
    // 1. Continue at the current alignment if it matches again (substitutions keep alignment).
    let bestSrc = -1;
    let bestLen = 0;
    const cont = p + offset;
    if (cont >= 0 && cont < s.length) {
      const n = matchForward(s, cont, t, p);
      if (n >= MIN_CONTINUATION) {
        bestSrc = cont;
        bestLen = n;
      }
    }
    // 2. A substitution keeps the alignment: if it matches again within a few bytes, skip ahead to there.
    if (bestSrc < 0 && cont >= 0) {
      let q = p + 1;
      const limit = Math.min(end, p + RESYNC);
      for (; q <= limit; q++) {
        const c2 = q + offset;
        if (c2 + K > s.length) break;
        if (matchForward(s, c2, t, q) >= K) break;
      }
      if (q <= limit && q + offset + K <= s.length) {
        p = q;
        continue;
      }
    }
    // 3. Otherwise (or if the hash table knows something much longer), look the K bytes up.
    if (bestLen < 64) {
      idx ??= new SourceIndex(s);
      const c = idx.candidate(t, p);
      if (c >= 0 && c !== cont) {
        const n = matchForward(s, c, t, p);
        // A jump costs its address; literal text costs ~2-4 bits a byte after zstd. Short matches far
        // from the current alignment are cheaper as literal bytes.
        if (n >= minJumpMatch(c - em.srcPos) && n > bestLen + 8) {
          bestSrc = c;
          bestLen = n;
        }
      }
    }
    if (bestSrc < 0) {
      p++;
      continue;
    }
    // Extend backwards into the pending literal while bytes agree.
    let tStart = p;
    let sStart = bestSrc;
    while (tStart > lit && sStart > 0 && t[tStart - 1] === s[sStart - 1]) {
      tStart--;
      sStart--;
    }
    em.pending(lit, tStart - lit, sStart - (tStart - lit));
    const len = bestLen + (p - tStart);
    em.copy(tStart, sStart, len);
    p = tStart + len;
    lit = p;
    offset = sStart - tStart;
  }
  // The tail that is too short to hash: aligned DIFF/COPY if it fits the current alignment, else ADD.
  if (lit < t.length) {
    const cont = lit + offset;
    const n = cont >= 0 && cont < s.length ? matchForward(s, cont, t, lit) : 0;
    if (n > 0 && n === t.length - lit) em.copy(lit, cont, n);
    else em.pending(lit, t.length - lit, cont);
  }
  em.stats.lastOffset = offset;
  return em.stats;
}
