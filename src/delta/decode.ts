import { LayerwiseError } from '../errors.js';
import type { Cursor } from './cursor.js';
import { OP_ADD, OP_COPY, OP_DIFF } from './encode.js';

export interface DeltaIn {
  ops: Cursor;
  diff: Cursor;
  add: Cursor;
}

/**
 * Rebuilds `targetLength` bytes from source + instructions, calling `emit` with consecutive pieces.
 * Every instruction is bounds-checked: a corrupt patch fails with PATCH_CORRUPT; it never reads outside
 * the source or writes past the target.
 */
export async function decodeDelta(source: Uint8Array, targetLength: number, input: DeltaIn, emit: (chunk: Uint8Array) => void | Promise<void>, subject: string): Promise<void> {
  let produced = 0;
  let srcPos = 0;
  while (produced < targetLength) {
    const word = await input.ops.uint();
    const kind = word % 4;
    const len = Math.floor(word / 4);
    if (len === 0 || produced + len > targetLength) {
      throw new LayerwiseError('PATCH_CORRUPT', `${subject}: delta instruction of ${len} bytes at ${produced} overruns ${targetLength}`);
    }
    if (kind === OP_ADD) {
      await input.add.take(len, emit);
    } else if (kind === OP_COPY || kind === OP_DIFF) {
      const s = srcPos + (await input.ops.int());
      if (s < 0 || s + len > source.length) {
        throw new LayerwiseError('PATCH_CORRUPT', `${subject}: delta reads source [${s}, ${s + len}) outside its ${source.length} bytes`);
      }
      if (kind === OP_COPY) await emit(source.subarray(s, s + len));
      else {
        const out = Buffer.allocUnsafe(len);
        let at = 0;
        await input.diff.take(len, (d) => {
          for (let i = 0; i < d.length; i++) out[at + i] = (source[s + at + i]! + d[i]!) & 0xff;
          at += d.length;
        });
        await emit(out);
      }
      srcPos = s + len;
    } else {
      throw new LayerwiseError('PATCH_CORRUPT', `${subject}: unknown delta instruction ${kind}`);
    }
    produced += len;
  }
}
