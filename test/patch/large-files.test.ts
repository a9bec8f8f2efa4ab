import { mkdtempSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPatch } from '../../src/patch/create.js';
import { applyPatch } from '../../src/patch/apply.js';
import { imageFromEntries, seededBytes } from '../../src/testing/images.js';
import { openImage, writeImage } from '../../src/transports/index.js';
import { WHOLE_LIMIT } from '../../src/patch/layer-encoder.js';

const dir = mkdtempSync('/tmp/lw-large-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('files over the in-memory limit are delta-coded in windows', () => {
  it('a 40 MB file edited in place, and a 70 MB one grown in the middle, cost kilobytes and rebuild exactly', async () => {
    expect(40 * 1024 * 1024).toBeGreaterThan(WHOLE_LIMIT);
    const model = seededBytes('model-weights', 40 * 1024 * 1024);
    const edited = Buffer.from(model);
    for (const at of [1000, 17 * 1024 * 1024 + 5, 39 * 1024 * 1024]) edited.write('PATCHED!', at, 'latin1');
    const db = seededBytes('database', 70 * 1024 * 1024);
    // Grown in the middle: later windows must find their bytes at a new alignment.
    const grown = Buffer.concat([db.subarray(0, 30 * 1024 * 1024), seededBytes('inserted', 100_000), db.subarray(30 * 1024 * 1024)]);
    const oldRef = `docker-archive:${path.join(dir, 'old.tar')}:t/big:1`;
    const newRef = `docker-archive:${path.join(dir, 'new.tar')}:t/big:2`;
    await writeImage(imageFromEntries([[{ path: 'models/w.bin', type: 'file', data: model }, { path: 'var/db.bin', type: 'file', data: db }]], { compression: 'none' }), oldRef);
    await writeImage(imageFromEntries([[{ path: 'models/w.bin', type: 'file', data: edited }, { path: 'var/db.bin', type: 'file', data: grown }, { path: 'var/new.bin', type: 'file', data: seededBytes('fresh', 36 * 1024 * 1024) }]], { compression: 'none' }), newRef);
    const patch = path.join(dir, 'p.lwp');
    const created = await createPatch({ from: [oldRef], to: newRef, output: patch });
    expect(created.header.stats.deltaFiles).toBe(2);
    // The 100 KB insertion and the new 36 MB file are the only real content; the edits cost bytes.
    const size = statSync(patch).size;
    expect(size).toBeLessThan(36 * 1024 * 1024 + 100_000 + 50_000);
    expect(size).toBeGreaterThan(36 * 1024 * 1024);
    const res = await applyPatch({ patch, from: [oldRef], to: `oci:${path.join(dir, 'out')}:t` });
    const want = await openImage(newRef);
    expect(res.imageId).toBe(want.id);
    await want.close();
  }, 180_000);

  it('keeps the alignment from window to window on repetitive text (no false matches elsewhere)', async () => {
    // A 48 MB log-like file from a 20-word vocabulary: any 8 bytes occur all over it, so a window that
    // lost its alignment would match everywhere and ship megabytes.
    const words = 'alpha beta gamma delta request response handler config layer image digest stream buffer error status data items index value result'.split(' ');
    const r = seededBytes('vocab', 48 * 1024 * 1024);
    const parts: string[] = [];
    let n = 0;
    for (let i = 0; n < 48 * 1024 * 1024; i++) {
      const w = words[r[i]! % words.length]!;
      parts.push(w, r[i]! % 9 === 0 ? '\n' : ' ');
      n += w.length + 1;
    }
    const text = Buffer.from(parts.join('').slice(0, 48 * 1024 * 1024), 'latin1');
    const edited = Buffer.from(text);
    for (const at of [3 << 20, 20 << 20, 41 << 20]) edited.write('EDIT', at, 'latin1');
    const oldRef = `docker-archive:${path.join(dir, 'txt-old.tar')}:t/txt:1`;
    const newRef = `docker-archive:${path.join(dir, 'txt-new.tar')}:t/txt:2`;
    await writeImage(imageFromEntries([[{ path: 'var/log/app.log', type: 'file', data: text }]], { compression: 'none' }), oldRef);
    await writeImage(imageFromEntries([[{ path: 'var/log/app.log', type: 'file', data: edited, mtime: 9 }]], { compression: 'none' }), newRef);
    const patch = path.join(dir, 'txt.lwp');
    await createPatch({ from: [oldRef], to: newRef, output: patch });
    expect(statSync(patch).size).toBeLessThan(4000);
    const res = await applyPatch({ patch, from: [oldRef], to: `oci:${path.join(dir, 'txt-out')}:t` });
    const want = await openImage(newRef);
    expect(res.imageId).toBe(want.id);
    await want.close();
  }, 180_000);
});
