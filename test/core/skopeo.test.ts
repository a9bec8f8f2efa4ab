import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openImage, writeImage } from '../../src/transports/index.js';
import { validateImage } from '../../src/image/validate.js';
import { randomImage } from '../../src/testing/images.js';
import { haveTool } from '../support/tools.js';
import { run } from '../support/run.js';

const skopeo = haveTool('skopeo', 'skopeo');
const umoci = haveTool('umoci', 'umoci');
const dir = mkdtempSync('/tmp/lw-skopeo-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!skopeo)('skopeo interop', () => {
  it('skopeo inspects and copies the OCI layouts layerwise writes', async () => {
    const src = randomImage({ layers: 3, seed: 'skopeo-a', compression: 'gzip' });
    const layout = path.join(dir, 'lw-oci');
    await writeImage(src, `oci:${layout}:v1`);
    const inspect = await run('skopeo', ['inspect', `oci:${layout}:v1`]);
    expect(inspect.code, inspect.stderr).toBe(0);
    const info = JSON.parse(inspect.stdout) as { Digest: string; Layers: string[] };
    expect(info.Layers).toEqual(src.layers.map((l) => l.descriptor.digest));
    const copied = await run('skopeo', ['copy', '-q', `oci:${layout}:v1`, `oci:${path.join(dir, 'sk-copy')}:v1`]);
    expect(copied.code, copied.stderr).toBe(0);
    const back = await openImage(`oci:${path.join(dir, 'sk-copy')}:v1`);
    expect(back.id).toBe(src.id);
    expect(back.digest).toBe(src.digest);
    await back.close();
    const arch = await run('skopeo', ['copy', '-q', `oci:${layout}:v1`, `docker-archive:${path.join(dir, 'sk.tar')}:sk/app:1`]);
    expect(arch.code, arch.stderr).toBe(0);
    const fromArchive = await openImage(`docker-archive:${path.join(dir, 'sk.tar')}`);
    expect(fromArchive.id).toBe(src.id);
    expect(fromArchive.layers.map((l) => l.diffId)).toEqual(src.layers.map((l) => l.diffId));
    await fromArchive.close();
  });

  for (const [label, flags] of [['uncompressed', ['--dest-oci-accept-uncompressed-layers']], ['gzip', ['--dest-compress']]] as const) {
    it(`reads layouts skopeo writes (${label} layers)`, async () => {
      const src = randomImage({ layers: 2, seed: `skopeo-${label}`, compression: 'none', family: 'docker' });
      const archive = path.join(dir, `${label}-src.tar`);
      await writeImage(src, `docker-archive:${archive}:sk/src:1`);
      const out = path.join(dir, `${label}-oci`);
      const r = await run('skopeo', ['copy', '-q', ...flags, `docker-archive:${archive}`, `oci:${out}:v1`]);
      expect(r.code, r.stderr).toBe(0);
      // skopeo re-serialises the config when it converts schema 2 to OCI, so the image ID to expect is
      // the config digest skopeo's own manifest names; the layers must be the source's.
      const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', `oci:${out}:v1`])).stdout) as { config: { digest: string } };
      const img = await openImage(`oci:${out}:v1`);
      try {
        expect(img.id).toBe(raw.config.digest);
        expect(img.layers.map((l) => l.diffId)).toEqual(src.layers.map((l) => l.diffId));
        const report = await validateImage(img);
        if (label === 'gzip') expect(report.problems).toEqual([]);
        else {
          // skopeo 1.9 stores these layers uncompressed but labels them +gzip: read by content, reported by validate.
          expect(report.problems.map((p) => p.code)).toEqual(img.layers.map(() => 'COMPRESSION_MISMATCH'));
          expect(report.layers.every((l) => l.uncompressedSize === l.size)).toBe(true);
        }
      } finally {
        await img.close();
      }
      const oarch = path.join(dir, `${label}-oci.tar`);
      const r2 = await run('skopeo', ['copy', '-q', ...flags, `docker-archive:${archive}`, `oci-archive:${oarch}:v1`]);
      expect(r2.code, r2.stderr).toBe(0);
      const img2 = await openImage(`oci-archive:${oarch}:v1`);
      expect(img2.id).toBe(raw.config.digest);
      expect(img2.layers.map((l) => l.diffId)).toEqual(src.layers.map((l) => l.diffId));
      await img2.close();
    });
  }
});

describe.skipIf(!umoci)('umoci interop', () => {
  it('umoci unpacks an OCI layout layerwise wrote', async () => {
    const src = randomImage({ layers: 2, filesPerLayer: 2, seed: 'umoci', compression: 'gzip' });
    const layout = path.join(dir, 'umoci-oci');
    await writeImage(src, `oci:${layout}:v1`);
    const stat = await run('umoci', ['stat', '--image', `${layout}:v1`]);
    expect(stat.code, stat.stderr).toBe(0);
    const bundle = path.join(dir, 'bundle');
    const un = await run('umoci', ['raw', 'unpack', '--rootless', '--image', `${layout}:v1`, bundle]);
    expect(un.code, un.stderr).toBe(0);
    const ls = await run('sh', ['-c', `ls ${bundle}/layer0 ${bundle}/layer1 | wc -l`]);
    expect(Number(ls.stdout.trim())).toBeGreaterThan(0);
  });
});
