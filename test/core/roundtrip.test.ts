import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openImage, writeImage } from '../../src/transports/index.js';
import { validateImage } from '../../src/image/validate.js';
import { randomImage } from '../../src/testing/images.js';
import type { Image } from '../../src/model/image.js';

const dir = mkdtempSync('/tmp/lw-rt-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function identity(img: Image) {
  return { id: img.id, diffIds: img.layers.map((l) => l.diffId) };
}

describe('transport round trips keep identity', () => {
  for (const compression of ['gzip', 'none', 'zstd'] as const) {
    it(`docker-archive -> oci -> oci-archive -> docker-archive (${compression} layers)`, async () => {
      const src = randomImage({ layers: 3, filesPerLayer: 3, fileSize: 5000, seed: compression, compression });
      const want = await identity(src);
      const a = path.join(dir, `${compression}-a.tar`);
      await writeImage(src, `docker-archive:${a}:rt/${compression}:1`);
      const hops = [`oci:${path.join(dir, `${compression}-oci`)}:v1`, `oci-archive:${path.join(dir, `${compression}-o.tar`)}:v1`, `docker-archive:${path.join(dir, `${compression}-b.tar`)}:rt/${compression}:1`];
      let from = `docker-archive:${a}`;
      for (const to of hops) {
        const img = await openImage(from);
        try {
          expect(await identity(img)).toEqual(want);
          await writeImage(img, to);
        } finally {
          await img.close();
        }
        from = to;
      }
      const last = await openImage(from);
      try {
        expect(await identity(last)).toEqual(want);
        expect(last.names).toEqual([`rt/${compression}:1`]);
        const report = await validateImage(last);
        expect(report.problems).toEqual([]);
      } finally {
        await last.close();
      }
    });
  }

  it('keeps compressed blob digests and the OCI manifest bytes through oci <-> oci-archive', async () => {
    const src = randomImage({ layers: 2, seed: 'keep', compression: 'gzip', family: 'oci' });
    await writeImage(src, `oci:${path.join(dir, 'keep')}:t`);
    const a = await openImage(`oci:${path.join(dir, 'keep')}:t`);
    expect(a.digest).toBe(src.digest);
    await writeImage(a, `oci-archive:${path.join(dir, 'keep.tar')}:t`);
    await a.close();
    const b = await openImage(`oci-archive:${path.join(dir, 'keep.tar')}:t`);
    expect(b.digest).toBe(src.digest);
    expect(b.layers.map((l) => l.descriptor.digest)).toEqual(src.layers.map((l) => l.descriptor.digest));
    await b.close();
  });

  it('recompresses on request, keeping diffIDs and image ID and reporting changed digests', async () => {
    const src = randomImage({ layers: 2, seed: 'recompress', compression: 'gzip' });
    const res = await writeImage(src, `oci:${path.join(dir, 'zstd')}:t`, { compression: 'zstd' });
    expect(res.imageId).toBe(src.id);
    expect(res.changed.filter((c) => c.what.startsWith('layer'))).toHaveLength(2);
    const img = await openImage(`oci:${path.join(dir, 'zstd')}:t`);
    expect(img.layers.map((l) => l.diffId)).toEqual(src.layers.map((l) => l.diffId));
    expect(img.layers.every((l) => l.compression === 'zstd')).toBe(true);
    expect((await validateImage(img)).ok).toBe(true);
    await img.close();
  });
});
