/**
 * Corruption anywhere is caught before anything is committed at the destination. Every byte of a patch
 * and of a bundle is flipped in turn; bytes of every blob of an image, and bytes all over a base image,
 * are flipped too. Each run either fails with a stable code and leaves no destination, or (for bytes no
 * reader depends on, like tar padding in a base archive) produces exactly the expected image.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyBundle } from '../../src/deploy/apply-bundle.js';
import { createBundle } from '../../src/deploy/bundle.js';
import { isLayerwiseError } from '../../src/errors.js';
import { copyImage } from '../../src/image/copy.js';
import { validateImage } from '../../src/image/validate.js';
import type { Image } from '../../src/model/image.js';
import { applyPatch } from '../../src/patch/apply.js';
import { createPatch } from '../../src/patch/create.js';
import { indexTarFile } from '../../src/tar/index-file.js';
import { imageFromEntries, seededBytes } from '../../src/testing/images.js';
import type { MemoryEntry } from '../../src/tar/writer.js';
import { openImage, writeImage } from '../../src/transports/index.js';
import { Sandbox } from './sandbox.js';

const sbx = new Sandbox('corrupt');
const savedTmp = process.env.LAYERWISE_TMPDIR;
const text = (seed: string, n: number) => Buffer.from(seededBytes(seed, n).toString('base64').slice(0, n));

const baseLayers: MemoryEntry[][] = [
  [{ path: 'bin/', type: 'dir' }, { path: 'bin/tool', type: 'file', mode: 0o755, data: seededBytes('tool', 6000) }],
  [{ path: 'app/', type: 'dir' }, { path: 'app/main.js', type: 'file', data: text('main', 5000) }, { path: 'app/lib.js', type: 'file', data: text('lib', 3000) }],
];
const nextLayers: MemoryEntry[][] = [
  baseLayers[0]!,
  [
    { path: 'app/', type: 'dir', mtime: 7 },
    { path: 'app/main.js', type: 'file', data: Buffer.concat([text('main', 5000).subarray(0, 2000), Buffer.from('// fixed\n'), text('main', 5000).subarray(2000)]) },
    { path: 'app/lib.js', type: 'file', data: text('lib', 3000) },
    { path: 'app/new.js', type: 'file', data: text('new', 800) },
  ],
];

let baseRef: string;
let baseOciRef: string;
let target: Image;
let patchFile: string;
let patchFromOci: string;
let bundleFile: string;
const exitCodes = new Map<string, number>();

function note(code: string): void {
  exitCodes.set(code, (exitCodes.get(code) ?? 0) + 1);
}

/** Runs an apply that must fail with a stable code or produce exactly `want`; the destination must not exist after a failure. */
async function failsOrExact(run: (dest: string) => Promise<unknown>, kind: 'oci' | 'bundle', want: Image[] | undefined, what: string): Promise<'failed' | 'exact'> {
  const dest = path.join(sbx.out, kind === 'bundle' ? 'bundle' : 'dest');
  let caught: unknown;
  try {
    await run(dest);
  } catch (err) {
    caught = err;
  }
  try {
    if (caught !== undefined) {
      expect(isLayerwiseError(caught), `${what}: not a LayerwiseError: ${String(caught)}`).toBe(true);
      note((caught as { code: string }).code);
      expect(existsSync(dest), `${what}: destination left behind after ${(caught as Error).message}`).toBe(false);
      return 'failed';
    }
    expect(want, `${what}: succeeded, but every byte of this input matters`).toBeDefined();
    for (const w of want!) {
      const ref = kind === 'bundle' ? `oci:${dest}:${w.names[0] ?? ''}` : `oci:${dest}:t`;
      const img = await openImage(ref);
      expect([img.id, img.digest], `${what}: wrong image`).toEqual([w.id, w.digest]);
      expect((await validateImage(img)).ok, `${what}: output does not validate`).toBe(true);
      await img.close();
    }
    return 'exact';
  } finally {
    sbx.clearOut();
    expect(readdirSync(sbx.tmp), `${what}: scratch left behind`).toEqual([]);
  }
}

function flipped(file: string, pos: number, mask = 0x01): string {
  const bytes = readFileSync(file);
  bytes[pos]! ^= mask;
  const out = path.join(sbx.inputs, `flip-${path.basename(file)}`);
  writeFileSync(out, bytes);
  return out;
}

beforeAll(async () => {
  process.env.LAYERWISE_TMPDIR = sbx.tmp;
  baseRef = `docker-archive:${path.join(sbx.inputs, 'base.tar')}:t/app:1`;
  baseOciRef = `oci:${path.join(sbx.inputs, 'base-oci')}:1`;
  const base = imageFromEntries(baseLayers, { compression: 'none', family: 'docker' });
  await writeImage(base, baseRef);
  await writeImage(imageFromEntries(baseLayers, { compression: 'gzip' }), baseOciRef);
  target = imageFromEntries(nextLayers, { compression: 'none', family: 'docker' });
  await writeImage(target, `docker-archive:${path.join(sbx.inputs, 'next.tar')}:t/app:2`);
  target = await openImage(`docker-archive:${path.join(sbx.inputs, 'next.tar')}`);
  patchFile = path.join(sbx.inputs, 'update.lwp');
  await createPatch({ from: [baseRef], to: target, output: patchFile });
  patchFromOci = path.join(sbx.inputs, 'update-oci.lwp');
  await createPatch({ from: [baseOciRef], to: target, output: patchFromOci });
  bundleFile = path.join(sbx.inputs, 'release.lwb');
  await createBundle({ pairs: [{ from: baseRef, to: `docker-archive:${path.join(sbx.inputs, 'next.tar')}` }], output: bundleFile });
}, 120_000);

afterAll(async () => {
  await target?.close();
  if (savedTmp === undefined) delete process.env.LAYERWISE_TMPDIR;
  else process.env.LAYERWISE_TMPDIR = savedTmp;
  sbx.remove();
  console.log(`corruption: failures by code ${JSON.stringify(Object.fromEntries(exitCodes))}`);
});

describe('corruption is detected before anything is committed', () => {
  it('the untouched patch and bundle apply (control)', async () => {
    expect(await failsOrExact((d) => applyPatch({ patch: patchFile, from: [baseRef], to: `oci:${d}:t` }), 'oci', [target], 'control patch')).toBe('exact');
    expect(await failsOrExact((d) => applyPatch({ patch: patchFromOci, from: [baseOciRef], to: `oci:${d}:t` }), 'oci', [target], 'control patch from OCI')).toBe('exact');
    const named = { ...target, names: ['t/app:2'] } as Image;
    expect(await failsOrExact((d) => applyBundle({ bundle: bundleFile, from: [baseRef], to: `oci:${d}` }), 'bundle', [named], 'control bundle')).toBe('exact');
  });

  it('every byte of a patch, flipped', async () => {
    const size = readFileSync(patchFile).length;
    expect(size).toBeLessThan(8000);
    for (let pos = 0; pos < size; pos++) {
      const f = flipped(patchFile, pos);
      expect(await failsOrExact((d) => applyPatch({ patch: f, from: [baseRef], to: `oci:${d}:t` }), 'oci', undefined, `patch byte ${pos}`)).toBe('failed');
    }
  }, 300_000);

  it('every byte of a bundle, flipped', async () => {
    const size = readFileSync(bundleFile).length;
    expect(size).toBeLessThan(8000);
    for (let pos = 0; pos < size; pos++) {
      const f = flipped(bundleFile, pos, 0x80);
      expect(await failsOrExact((d) => applyBundle({ bundle: f, from: [baseRef], to: `oci:${d}` }), 'bundle', undefined, `bundle byte ${pos}`)).toBe('failed');
    }
  }, 300_000);

  it('bytes of every blob of an OCI image, flipped: copy refuses them', async () => {
    const layout = path.join(sbx.inputs, 'base-oci');
    const blobs = readdirSync(path.join(layout, 'blobs/sha256'));
    expect(blobs.length).toBe(4); // manifest, config, two layers
    for (const b of blobs) {
      const file = path.join(layout, 'blobs/sha256', b);
      const original = readFileSync(file);
      const positions = new Set([0, 1, original.length - 1, original.length - 4]);
      for (let i = 0; i < 24; i++) positions.add(Math.floor((i / 24) * original.length));
      try {
        for (const pos of positions) {
          const bytes = Buffer.from(original);
          bytes[pos]! ^= 0x01;
          writeFileSync(file, bytes);
          for (const kind of ['oci', 'docker-archive'] as const) {
            const r = await failsOrExact((d) => copyImage(baseOciRef, kind === 'oci' ? `oci:${d}:t` : `docker-archive:${d}:x/y:1`), 'oci', undefined, `blob ${b.slice(0, 12)} byte ${pos} -> ${kind}`);
            expect(r).toBe('failed');
          }
        }
      } finally {
        writeFileSync(file, original);
      }
    }
  }, 300_000);

  it('bytes all over a base image (docker-archive and OCI), flipped: patch apply fails or rebuilds the exact target', async () => {
    const archive = path.join(sbx.inputs, 'base.tar');
    const size = readFileSync(archive).length;
    const positions = new Set<number>();
    for (let i = 0; i < 48; i++) positions.add(Math.floor((i / 48) * size) + (i % 7));
    // Inside the data of every member (layers, config, manifests) and inside every header.
    for (const m of (await indexTarFile(archive)).members.values()) {
      if (m.size > 0) positions.add(m.dataOffset + Math.floor(m.size / 2));
      positions.add(m.dataOffset - 512 + 20);
    }
    const outcomes = { failed: 0, exact: 0 };
    for (const pos of positions) {
      if (pos >= size) continue;
      const f = flipped(archive, pos);
      outcomes[await failsOrExact((d) => applyPatch({ patch: patchFile, from: [`docker-archive:${f}`], to: `oci:${d}:t` }), 'oci', [target], `base.tar byte ${pos}`)]++;
    }
    expect(outcomes.failed).toBeGreaterThan(outcomes.exact);
    const layout = path.join(sbx.inputs, 'base-oci');
    for (const b of readdirSync(path.join(layout, 'blobs/sha256'))) {
      const file = path.join(layout, 'blobs/sha256', b);
      const original = readFileSync(file);
      try {
        for (const pos of [0, Math.floor(original.length / 2), original.length - 1]) {
          const bytes = Buffer.from(original);
          bytes[pos]! ^= 0x01;
          writeFileSync(file, bytes);
          const r = await failsOrExact((d) => applyPatch({ patch: patchFromOci, from: [baseOciRef], to: `oci:${d}:t` }), 'oci', [target], `base-oci blob ${b.slice(0, 12)} byte ${pos}`);
          // Every blob of this base is read: the patch references both layers, and metadata is coded against its config and manifest.
          expect(r).toBe('failed');
        }
      } finally {
        writeFileSync(file, original);
      }
    }
    rmSync(path.join(sbx.inputs, 'flip-base.tar'), { force: true });
  }, 300_000);
});
