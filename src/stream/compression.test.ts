import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compress as zstdCompress } from 'zstd-napi';
import { isLayerwiseError } from '../errors.js';
import type { Compression } from '../model/media-types.js';
import { seededBytes } from '../testing/images.js';
import { decompressStream } from './compression.js';

function chunks(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

async function inflate(blob: Buffer, compression: Compression, chunkSize = 65536, maxRatio?: number): Promise<{ bytes?: number; code?: string }> {
  try {
    let n = 0;
    for await (const c of decompressStream(Readable.from(chunks(blob, chunkSize)), compression, 'blob', maxRatio)) n += (c as Buffer).length;
    return { bytes: n };
  } catch (err) {
    expect(isLayerwiseError(err), `not a LayerwiseError: ${String(err)}`).toBe(true);
    return { code: (err as { code: string }).code };
  }
}

describe('decompressStream', () => {
  const data = seededBytes('compression', 300_000);
  const gz = gzipSync(data);
  const zs = zstdCompress(data);

  it('inflates gzip (several members too) and zstd (several frames too), whatever the chunking', async () => {
    const small = seededBytes('small', 5000);
    expect(await inflate(gzipSync(small), 'gzip', 7)).toEqual({ bytes: small.length });
    expect(await inflate(zstdCompress(small), 'zstd', 7)).toEqual({ bytes: small.length });
    for (const size of [4096, 1 << 20]) {
      expect(await inflate(gz, 'gzip', size)).toEqual({ bytes: data.length });
      expect(await inflate(Buffer.concat([gz, gz]), 'gzip', size)).toEqual({ bytes: 2 * data.length });
      expect(await inflate(zs, 'zstd', size)).toEqual({ bytes: data.length });
      expect(await inflate(Buffer.concat([zs, zs]), 'zstd', size)).toEqual({ bytes: 2 * data.length });
    }
  });

  it('refuses data after the end of a gzip stream: garbage, zero padding, or a member hidden behind zeros', async () => {
    for (const size of [1, 4096, 1 << 20]) {
      if (size === 1) {
        expect(await inflate(Buffer.concat([gzipSync(Buffer.from('x')), Buffer.alloc(3)]), 'gzip', 1)).toEqual({ code: 'COMPRESSION_INVALID' });
        continue;
      }
      expect(await inflate(Buffer.concat([gz, Buffer.from('GARBAGE!')]), 'gzip', size)).toEqual({ code: 'COMPRESSION_INVALID' });
      expect(await inflate(Buffer.concat([gz, Buffer.alloc(512)]), 'gzip', size)).toEqual({ code: 'COMPRESSION_INVALID' });
      expect(await inflate(Buffer.concat([gz, Buffer.alloc(10), gz]), 'gzip', size)).toEqual({ code: 'COMPRESSION_INVALID' });
    }
  });

  it('turns every codec failure into COMPRESSION_INVALID (truncated, corrupt, trailing data), never a raw codec error', async () => {
    const flipped = Buffer.from(gz);
    flipped[Math.floor(gz.length / 2)] ^= 0xff;
    expect(await inflate(flipped, 'gzip')).toEqual({ code: 'COMPRESSION_INVALID' });
    expect(await inflate(gz.subarray(0, gz.length - 5), 'gzip')).toEqual({ code: 'COMPRESSION_INVALID' });
    expect(await inflate(zs.subarray(0, zs.length - 5), 'zstd')).toEqual({ code: 'COMPRESSION_INVALID' });
    expect(await inflate(Buffer.concat([zs, Buffer.from('GARBAGE!')]), 'zstd')).toEqual({ code: 'COMPRESSION_INVALID' });
    expect(await inflate(Buffer.concat([zs, Buffer.alloc(64)]), 'zstd')).toEqual({ code: 'COMPRESSION_INVALID' });
    expect(await inflate(Buffer.from('not compressed at all'), 'gzip')).toEqual({ code: 'COMPRESSION_INVALID' });
  });

  it('refuses a zstd decompression bomb by its ratio', async () => {
    // 96 MiB of zeros compress to a few KB: far past the 2048:1 limit once past the 64 MiB grace.
    const bomb = zstdCompress(Buffer.alloc(96 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(await inflate(bomb, 'zstd')).toEqual({ code: 'DECOMPRESSION_BOMB' });
    // The same ratio limit, lowered, catches a gzip bomb too (deflate tops out near 1032:1).
    const gzBomb = gzipSync(Buffer.alloc(80 * 1024 * 1024));
    expect(await inflate(gzBomb, 'gzip', 65536, 500)).toEqual({ code: 'DECOMPRESSION_BOMB' });
  });

  it('lets the reader stop early without hanging or throwing', async () => {
    const s = decompressStream(Readable.from(chunks(gz, 1000)), 'gzip', 'early');
    for await (const _ of s) break;
    expect(s.destroyed).toBe(true);
  });
});
