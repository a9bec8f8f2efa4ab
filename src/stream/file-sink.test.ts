import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSink } from './file-sink.js';

const dir = mkdtempSync('/tmp/lw-sink-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('FileSink', () => {
  it('writes queued chunks in order, past the write-behind limit, and patches earlier bytes after them', async () => {
    const file = path.join(dir, 'a');
    const sink = await FileSink.create(file);
    const expected = createHash('sha256');
    const head = Buffer.alloc(512, 0x61);
    await sink.write(head);
    const chunks: Buffer[] = [head];
    // 40 MB in chunks of odd sizes, so several 16 MB write-behind waits happen.
    for (let n = 0; n < 40 << 20; ) {
      const c = randomBytes(Math.min(1 + ((n * 7919) % (3 << 20)), (40 << 20) - n));
      chunks.push(c);
      n += c.length;
      await sink.write(c);
    }
    expect(sink.written).toBe(chunks.reduce((a, c) => a + c.length, 0));
    const patched = Buffer.alloc(512, 0x62);
    await sink.writeAt(patched, 0);
    chunks[0] = patched;
    await sink.finish();
    for (const c of chunks) expected.update(c);
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(expected.digest('hex'));
  });

  it.skipIf(!existsSync('/dev/full'))('reports a failed write (a full disk) from write or finish, not later', async () => {
    const sink = await FileSink.create('/dev/full', 'w');
    const attempt = async () => {
      for (let i = 0; i < 64; i++) await sink.write(randomBytes(1 << 20));
      await sink.finish();
    };
    await expect(attempt()).rejects.toMatchObject({ code: 'ENOSPC' });
    await sink.abort();
  });
});
