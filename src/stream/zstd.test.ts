import { describe, expect, it } from 'vitest';
import { compress } from 'zstd-napi';
import { isLayerwiseError } from '../errors.js';
import { seededBytes } from '../testing/images.js';
import { zstdDecompressLimited } from './zstd.js';

describe('zstdDecompressLimited', () => {
  it('decompresses one or several frames', () => {
    const a = seededBytes('a', 300_000);
    const b = Buffer.from('second frame');
    expect(zstdDecompressLimited(compress(a), 1 << 20, 's').equals(a)).toBe(true);
    expect(zstdDecompressLimited(Buffer.concat([compress(a), compress(b)]), 1 << 20, 's').equals(Buffer.concat([a, b]))).toBe(true);
    expect(zstdDecompressLimited(compress(Buffer.alloc(0)), 10, 's').length).toBe(0);
  });

  it('refuses a bomb past the limit without allocating what the frame claims, and truncated data', () => {
    const bomb = compress(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(8192);
    const code = (f: () => unknown) => {
      try {
        f();
        return 'ok';
      } catch (err) {
        return isLayerwiseError(err) ? err.code : 'raw';
      }
    };
    expect(code(() => zstdDecompressLimited(bomb, 1 << 20, 's'))).toBe('PATCH_CORRUPT');
    const data = compress(seededBytes('t', 100_000));
    expect(code(() => zstdDecompressLimited(data.subarray(0, data.length - 10), 1 << 20, 's'))).toBe('PATCH_CORRUPT');
  });
});
