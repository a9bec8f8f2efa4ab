import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPatch } from '../../src/patch/create.js';
import { applyPatch } from '../../src/patch/apply.js';
import { imageFromEntries, seededBytes } from '../../src/testing/images.js';
import { openImage, writeImage } from '../../src/transports/index.js';
import type { MemoryEntry } from '../../src/tar/writer.js';

const dir = mkdtempSync('/tmp/lw-chain-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = (seed: string, n: number) => Buffer.from(seededBytes(seed, n).toString('base64'));
const release = (v: number): MemoryEntry[][] => [
  [{ path: 'usr/', type: 'dir' }, { path: 'usr/runtime.so', type: 'file', data: seededBytes('rt', 100_000) }],
  [
    { path: 'app/', type: 'dir', mtime: v },
    { path: 'app/main.js', type: 'file', data: Buffer.concat([text('main', 50_000), Buffer.from(`// release ${v}\n`)]) },
    ...(v >= 3 ? [{ path: 'app/feature.js', type: 'file' as const, data: text('feature', 5000) }] : []),
  ],
];

describe('patches chain', () => {
  it('1->2 then 2->3 rebuilds 3 exactly, and a 1->3 patch made from several bases works too', async () => {
    const refs = [1, 2, 3].map((v) => `docker-archive:${path.join(dir, `v${v}.tar`)}:acme/app:${v}`);
    for (const v of [1, 2, 3]) await writeImage(imageFromEntries(release(v), { compression: 'none', family: 'docker' }), refs[v - 1]!);
    const p12 = path.join(dir, 'p12.lwp');
    const p23 = path.join(dir, 'p23.lwp');
    await createPatch({ from: [refs[0]!], to: refs[1]!, output: p12 });
    await createPatch({ from: [refs[1]!], to: refs[2]!, output: p23 });
    // The site: has v1, receives p12 then p23, in any transport.
    const site2 = `oci:${dir}/site:2`;
    await applyPatch({ patch: p12, from: [refs[0]!], to: site2 });
    const site3 = `oci-archive:${dir}/site3.tar:3`;
    const res = await applyPatch({ patch: p23, from: [site2], to: site3 });
    const [want, got] = [await openImage(refs[2]!), await openImage(site3)];
    expect(got.id).toBe(want.id);
    expect(res.imageId).toBe(want.id);
    expect(got.layers.map((l) => l.diffId)).toEqual(want.layers.map((l) => l.diffId));
    await want.close();
    await got.close();
    // A site holding v1 and v2 can take a patch to v3 coded against both.
    const p3 = path.join(dir, 'p-both-3.lwp');
    await createPatch({ from: [refs[0]!, refs[1]!], to: refs[2]!, output: p3 });
    const both = await applyPatch({ patch: p3, from: [refs[0]!, refs[1]!], to: `oci:${dir}/both:3` });
    expect(both.imageId).toBe(res.imageId);
  });
});
