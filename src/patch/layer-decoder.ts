import { LayerwiseError } from '../errors.js';
import type { Cursor } from '../delta/cursor.js';
import { decodeDelta } from '../delta/decode.js';
import { paddingFor } from '../tar/header.js';
import { TarParser, type TarEvent } from '../tar/reader.js';
import type { BaseProvider } from './base-store.js';
import { decodeHeader } from './header-codec.js';
import { C_DELTA, C_DELTA_SAME, C_LITERAL, C_MEMBER, C_NONE, C_PRELOADED, C_REF, C_SAME, END_OF_LAYER, FLAG_EXPLICIT_REF, FLAG_RAW_PADDING, SOURCE_WINDOW, TARGET_WINDOW, WHOLE_LIMIT } from './layer-encoder.js';
import type { EntryRef } from './old-index.js';
import type { StreamName } from './section.js';
import { rm } from 'node:fs/promises';
import { makeScratchDir } from '../stream/scratch.js';
import { ARCHIVE_KINDS, MemberStore } from './archive-index.js';
import { MAX_ARCHIVE } from './archives.js';

type Cursors = Record<StreamName, Cursor & { finish(): void }>;

const CHUNK = 1 << 20;
const ZERO = Buffer.alloc(CHUNK);

/** Reads one entry's reference and content source from the entries stream. */
async function readEntryOps(entries: Cursor, last: EntryRef | undefined, subject: string) {
  const flags = await entries.byte();
  if (flags === END_OF_LAYER) return { end: true as const, trailerBlocks: await entries.uint() };
  const hdrMode = flags & 3;
  const content = (flags >> 2) & 7;
  let ref: EntryRef | undefined;
  if (flags & FLAG_EXPLICIT_REF) {
    const l = await entries.uint();
    if (l > 0) ref = { layer: l - 1, entry: await entries.uint() };
  } else {
    if (!last) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: entry predicts a reference before any was given`);
    ref = { layer: last.layer, entry: last.entry + 1 };
  }
  let base: EntryRef | undefined;
  let member: { archive: number; member: number } | undefined;
  if (content === C_REF || content === C_DELTA) base = { layer: await entries.uint(), entry: await entries.uint() };
  if (content === C_MEMBER) member = { archive: await entries.uint(), member: await entries.uint() };
  return { end: false as const, hdrMode, content, ref, base, member, rawPadding: (flags & FLAG_RAW_PADDING) !== 0 };
}

/**
 * Walks the entries stream alone to list every base entry a layer section uses: headers (references)
 * and data (same/ref/delta bases). Lets the apply side keep only what it needs from bases it must stream.
 */
export async function referencedEntries(entries: Cursor, subject: string): Promise<{ headers: Map<number, Set<number>>; data: Map<number, Set<number>> }> {
  const headers = new Map<number, Set<number>>();
  const data = new Map<number, Set<number>>();
  const add = (m: Map<number, Set<number>>, r: EntryRef) => {
    let s = m.get(r.layer);
    if (!s) m.set(r.layer, (s = new Set()));
    s.add(r.entry);
  };
  let last: EntryRef | undefined;
  for (;;) {
    const op = await readEntryOps(entries, last, subject);
    if (op.end) break;
    if (op.ref) {
      add(headers, op.ref);
      if (op.content === C_SAME || op.content === C_DELTA_SAME) add(data, op.ref);
      last = op.ref;
    }
    if (op.base) add(data, op.base);
  }
  return { headers, data };
}

function entrySize(header: Buffer, subject: string): { size: number; type: string } {
  const parser = new TarParser({ subject });
  const events: TarEvent[] = [];
  parser.write(header, events);
  const e = events.find((ev) => ev.kind === 'entry');
  if (!e || e.kind !== 'entry') throw new LayerwiseError('PATCH_CORRUPT', `${subject}: rebuilt header is not a complete tar header`);
  return { size: e.entry.size, type: e.entry.type };
}

/**
 * Rebuilds a layer's tar bytes from its section and the base. Yields the exact original bytes; the
 * caller verifies them against the diffID before anything is committed.
 */
export async function* decodeLayer(c: Cursors, base: BaseProvider, subject: string, tmpDir?: string): AsyncGenerator<Buffer> {
  // Archives sent ahead: unpacked first, so files of the layer can come out of them. In a scratch
  // directory of its own unless given one, so a killed run's files are found and removed by the next.
  const dir = tmpDir ?? (await makeScratchDir('members'));
  const members = new MemberStore(dir);
  try {
    yield* decodeEntries(c, base, subject, members);
  } finally {
    members.dispose();
    if (!tmpDir) await rm(dir, { recursive: true, force: true });
  }
}

async function loadPreload(c: Cursors, members: MemberStore, subject: string): Promise<void> {
  for (;;) {
    const n = await c.preload.uint();
    if (n === 0) break;
    const kind = ARCHIVE_KINDS[await c.preload.uint()];
    const length = await c.preload.uint();
    if (!kind || length > MAX_ARCHIVE) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: preloaded archive ${n - 1} is invalid`);
    const bytes = Buffer.from(await c.preload.bytes(length));
    await members.unpack(n - 1, kind, bytes, `${subject}: archive entry ${n - 1}`);
  }
}

async function* decodeEntries(c: Cursors, base: BaseProvider, subject: string, members: MemberStore): AsyncGenerator<Buffer> {
  await loadPreload(c, members, subject);
  let last: EntryRef | undefined;
  let entryIndex = -1;
  const checkRef = (r: EntryRef) => {
    if (r.layer < 0 || r.layer >= base.layerCount) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: reference to base layer ${r.layer}`);
    return base.info(r);
  };
  for (;;) {
    const op = await readEntryOps(c.entries, last, subject);
    if (op.end) {
      for (let left = op.trailerBlocks * 512; left > 0; left -= CHUNK) yield ZERO.subarray(0, Math.min(CHUNK, left));
      break;
    }
    entryIndex++;
    const refInfo = op.ref ? checkRef(op.ref) : undefined;
    const header = await decodeHeader(op.hdrMode, refInfo?.header, { fields: c.fields, raw: c.hraw });
    const { size } = entrySize(header, subject);
    yield header;
    const out: Buffer[] = [];
    switch (op.content) {
      case C_NONE:
        if (size !== 0) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: entry of ${size} bytes has no content source`);
        break;
      case C_SAME:
      case C_REF: {
        const src = op.content === C_SAME ? op.ref : op.base;
        if (!src) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: content reference without an entry`);
        const info = checkRef(src);
        if (info.size !== size) throw new LayerwiseError('PATCH_BASE_MISMATCH', `${subject}: base entry ${src.layer}/${src.entry} has ${info.size} bytes, the patch expects ${size}`);
        for (let off = 0; off < size; off += CHUNK) yield await base.data(src, off, Math.min(CHUNK, size - off));
        break;
      }
      case C_DELTA_SAME:
      case C_DELTA: {
        const src = op.content === C_DELTA_SAME ? op.ref : op.base;
        if (!src) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: delta without a base entry`);
        const info = checkRef(src);
        const windows = await c.dops.uint();
        const flushTo = async (chunk: Uint8Array) => {
          out.push(Buffer.from(chunk));
        };
        if (windows === 0) {
          if (info.size > WHOLE_LIMIT || size > WHOLE_LIMIT) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: whole-file delta over the window limit`);
          const srcBytes = await base.data(src, 0, info.size);
          await decodeDelta(srcBytes, size, { ops: c.dops, diff: c.diff, add: c.data }, flushTo, subject);
          for (const b of out.splice(0)) yield b;
        } else {
          const specs: { start: number; len: number }[] = [];
          for (let w = 0; w < windows; w++) specs.push({ start: await c.dops.int(), len: await c.dops.uint() });
          const TW = TARGET_WINDOW;
          if (Math.ceil(size / TW) !== windows) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: ${windows} delta windows for ${size} bytes`);
          for (let w = 0; w < windows; w++) {
            const tStart = w * TW;
            const tLen = Math.min(TW, size - tStart);
            const sStart = specs[w]!.start + tStart;
            const sLen = specs[w]!.len;
            if (sStart < 0 || sLen < 0 || sStart + sLen > info.size || sLen > SOURCE_WINDOW) {
              throw new LayerwiseError('PATCH_CORRUPT', `${subject}: delta window [${sStart}, ${sStart + sLen}) outside the base's ${info.size} bytes`);
            }
            const srcBytes = sLen > 0 ? await base.data(src, sStart, sLen) : Buffer.alloc(0);
            await decodeDelta(srcBytes, tLen, { ops: c.dops, diff: c.diff, add: c.data }, flushTo, subject);
            for (const b of out.splice(0)) yield b;
          }
        }
        break;
      }
      case C_MEMBER:
      case C_PRELOADED: {
        const where = op.content === C_MEMBER ? members.member(op.member!.archive, op.member!.member) : members.archive(entryIndex);
        if (!where || where.size !== size) throw new LayerwiseError('PATCH_CORRUPT', `${subject}: entry ${entryIndex} names archive content the patch does not carry (or of another size)`);
        for (let off = 0; off < size; off += CHUNK) yield members.read(where.offset + off, Math.min(CHUNK, size - off));
        break;
      }
      case C_LITERAL: {
        const pieces: Buffer[] = [];
        let left = size;
        while (left > 0) {
          const n = Math.min(CHUNK, left);
          await c.data.take(n, (chunk) => {
            pieces.push(Buffer.from(chunk));
          });
          left -= n;
          for (const p of pieces.splice(0)) yield p;
        }
        break;
      }
    }
    const pad = paddingFor(size);
    if (op.rawPadding) {
      const pieces: Buffer[] = [];
      await c.data.take(pad, (chunk) => {
        pieces.push(Buffer.from(chunk));
      });
      yield* pieces;
    } else if (pad) yield ZERO.subarray(0, pad);
    if (op.ref) last = op.ref;
  }
  for (const k of Object.keys(c) as StreamName[]) c[k].finish();
}
