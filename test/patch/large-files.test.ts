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
});
