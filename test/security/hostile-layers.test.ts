/**
 * Every hostile layer of the catalogue through every command that reads layer content: each is refused
 * with its stable code, nothing is written outside the destination (a watched sandbox, the commands'
 * working directory and scratch space inside it), and refused commands leave no destination behind.
 * copy moves layers as verified blobs without interpreting them: it must carry them unchanged and write
 * nothing else.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeImage } from '../../src/analyze/analyze.js';
import { applyBundle } from '../../src/deploy/apply-bundle.js';
import { isLayerwiseError } from '../../src/errors.js';
import { copyImage } from '../../src/image/copy.js';
import { assembleImage, defaultConfig, MemoryLayer } from '../../src/image/memory.js';
import { validateImage } from '../../src/image/validate.js';
import type { Image, Layer } from '../../src/model/image.js';
import { sha256 } from '../../src/model/digest.js';
import { applyPatch } from '../../src/patch/apply.js';
import { createPatch } from '../../src/patch/create.js';
import { imageFromEntries, seededBytes } from '../../src/testing/images.js';
import { tarFromEntries } from '../../src/tar/writer.js';
import { openImage, writeImage } from '../../src/transports/index.js';
import { layerwise } from '../support/run.js';
import { hostileLayers, escapeNames, type HostileLayer } from './catalogue.js';
import { craftPatch } from './craft-patch.js';
import { Sandbox } from './sandbox.js';

const sbx = new Sandbox('layers');
const cases = hostileLayers(sbx.root);
const baseRef = `oci:${sbx.inputs}/base:1`;
let base: Image;
let safeNext: Image;
const savedTmp = process.env.LAYERWISE_TMPDIR;

function hostileImage(c: HostileLayer, compression: 'gzip' | 'none'): Image {
  const layers = [...base.layers, MemoryLayer.fromTar(c.tar, { compression })];
  return assembleImage({ layers, config: defaultConfig(layers.map((_, i) => ({ created_by: `layer ${i}` }))) });
}

/** Runs `fn`, expecting a LayerwiseError with `code`; returns nothing else. */
async function refused(fn: () => Promise<unknown>, code: string, what: string): Promise<void> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  expect(isLayerwiseError(caught), `${what}: expected ${code}, got ${caught instanceof Error ? caught.message : String(caught)}`).toBe(true);
  expect((caught as { code: string }).code, `${what}: ${(caught as Error).message}`).toBe(code);
}

/** Nothing outside out/ changed, scratch space is empty, and no escape name exists anywhere near. */
function expectContained(what: string): void {
  expect(sbx.changes(), what).toEqual([]);
  expect(readdirSync(sbx.tmp), `${what}: scratch left behind`).toEqual([]);
  for (const n of escapeNames()) {
    for (const dir of ['/', '/tmp', path.dirname(sbx.root), sbx.root, sbx.work]) expect(existsSync(path.join(dir, n)), `${what}: ${dir}/${n}`).toBe(false);
  }
  expect(sbx.specialFilesInOut(), `${what}: devices, FIFOs or links on the host`).toEqual([]);
}

beforeAll(async () => {
  process.env.LAYERWISE_TMPDIR = sbx.tmp;
  const b = imageFromEntries([[{ path: 'etc/', type: 'dir' }, { path: 'etc/os-release', type: 'file', data: Buffer.from('ID=test\n') }, { path: 'bin/', type: 'dir' }, { path: 'bin/tool', type: 'file', mode: 0o755, data: seededBytes('tool', 30_000) }]]);
  await writeImage(b, baseRef);
  base = await openImage(baseRef);
  safeNext = assembleImage({
    layers: [...base.layers, MemoryLayer.fromTar(tarFromEntries([{ path: 'app/', type: 'dir' }, { path: 'app/main', type: 'file', data: seededBytes('main', 20_000) }]))],
    config: defaultConfig([{ created_by: 'base' }, { created_by: 'app' }]),
  });
  await writeImage(safeNext, `oci:${sbx.inputs}/safe-next:1`);
  for (const [i, c] of cases.entries()) {
    const img = hostileImage(c, i % 2 === 0 ? 'gzip' : 'none');
    await writeImage(img, `oci:${sbx.inputs}/${c.id}:t`);
    if (c.level === 'content') {
      await craftPatch({ base, target: img, output: path.join(sbx.inputs, `${c.id}.lwp`), tmpDir: sbx.tmp });
      await craftPatch({ base, target: img, output: path.join(sbx.inputs, `${c.id}.lwb`), tmpDir: sbx.tmp, kind: 'bundle' });
    }
  }
  sbx.snapshot();
}, 300_000);

afterAll(async () => {
  await base?.close();
  if (savedTmp === undefined) delete process.env.LAYERWISE_TMPDIR;
  else process.env.LAYERWISE_TMPDIR = savedTmp;
  sbx.remove();
});

describe('hostile layers: refused by every reader, nothing written outside the destination', () => {
  it('the catalogue is what the brief lists, and a control patch of the same shape applies', async () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
    // The hand-made patch format is right: a safe layer crafted the same way applies and rebuilds the exact image.
    const control = path.join(sbx.tmp, 'control.lwp');
    await craftPatch({ base, target: safeNext, output: control, tmpDir: sbx.tmp });
    const dest = `oci:${sbx.out}/control:1`;
    const r = await applyPatch({ patch: control, from: [baseRef], to: dest });
    expect(r.imageId).toBe(safeNext.id);
    const img = await openImage(dest);
    expect((await validateImage(img)).ok).toBe(true);
    await img.close();
    rmSync(control);
    sbx.clearOut();
    expectContained('control');
  });

  for (const c of cases) {
    it(`${c.id}: ${c.title} -> ${c.code}`, async () => {
      const ref = `oci:${sbx.inputs}/${c.id}:t`;
      const img = await openImage(ref);
      try {
        // validate reports the problem on the hostile layer and nowhere else.
        const report = await validateImage(img);
        expect(report.ok).toBe(false);
        expect(report.problems.map((p) => [p.where.replace(/ \(.*/, ''), p.code])).toEqual([[`layer ${img.layers.length - 1}`, c.code]]);
        expectContained(`${c.id} validate`);

        await refused(() => analyzeImage(img), c.code, 'analyze');
        expectContained(`${c.id} analyze`);

        const patchOut = path.join(sbx.out, 'p.lwp');
        await refused(() => createPatch({ from: [baseRef], to: ref, output: patchOut }), c.code, 'patch create --to hostile');
        await refused(() => createPatch({ from: [ref], to: `oci:${sbx.inputs}/safe-next:1`, output: patchOut }), c.code, 'patch create --from hostile');
        expect(readdirSync(sbx.out)).toEqual([]);
        expectContained(`${c.id} patch create`);

        if (c.level === 'content') {
          await refused(() => applyPatch({ patch: path.join(sbx.inputs, `${c.id}.lwp`), from: [baseRef], to: `oci:${sbx.out}/applied:1` }), c.code, 'patch apply');
          await refused(() => applyPatch({ patch: path.join(sbx.inputs, `${c.id}.lwp`), from: [baseRef], to: `docker-archive:${sbx.out}/applied.tar:x/y:1` }), c.code, 'patch apply');
          await refused(() => applyBundle({ bundle: path.join(sbx.inputs, `${c.id}.lwb`), from: [baseRef], to: `oci:${sbx.out}/bundle` }), c.code, 'bundle apply');
          await refused(() => applyBundle({ bundle: path.join(sbx.inputs, `${c.id}.lwb`), from: [baseRef], to: `docker-archive:${sbx.out}/archives/` }), c.code, 'bundle apply');
          // The docker-archive bundle destination is a folder the user named; it may be created, but holds nothing.
          expect(readdirSync(sbx.out).filter((n) => n !== 'archives')).toEqual([]);
          if (existsSync(path.join(sbx.out, 'archives'))) expect(readdirSync(path.join(sbx.out, 'archives'))).toEqual([]);
          expectContained(`${c.id} patch/bundle apply`);
        }

        // copy carries the layer as a verified blob, byte for byte, and writes nothing but the destination.
        await copyImage(ref, `oci:${sbx.out}/copy:t`);
        const copied = await openImage(`oci:${sbx.out}/copy:t`);
        expect(copied.digest).toBe(img.digest);
        const blob = (d: string, root: string) => readFileSync(path.join(root, 'blobs/sha256', d.slice(7)));
        const last = img.layers[img.layers.length - 1]!.descriptor.digest;
        expect(blob(last, `${sbx.out}/copy`).equals(blob(last, `${sbx.inputs}/${c.id}`))).toBe(true);
        await copied.close();
        expectContained(`${c.id} copy`);
      } finally {
        await img.close();
        sbx.clearOut();
      }
    });
  }
});

/** A layer whose blob is given as is (e.g. gzip with trailing data), for compression-level hostility. */
function rawBlobLayer(blob: Buffer, tar: Buffer, compression: 'gzip' | 'zstd'): Layer {
  return {
    descriptor: { mediaType: `application/vnd.oci.image.layer.v1.tar+${compression}`, digest: sha256(blob), size: blob.length },
    diffId: sha256(tar),
    compression,
    uncompressedSize: undefined,
    compressed: async () => Readable.from([blob]),
    uncompressed: async () => Readable.from([tar]),
  };
}

describe('hostile compressed layers: refused by every reader that decompresses, carried as blobs by copy', () => {
  const cases: { id: string; title: string; code: string; layer: () => Layer }[] = [
    {
      id: 'zstd-bomb',
      title: 'a zstd layer decompressing 96 MiB from a few KB',
      code: 'DECOMPRESSION_BOMB',
      layer: () => MemoryLayer.fromTar(tarFromEntries([{ path: 'zeros', type: 'file', data: Buffer.alloc(96 * 1024 * 1024) }]), { compression: 'zstd' }),
    },
    {
      id: 'gzip-trailing',
      title: 'a gzip layer with data after the end of the gzip stream',
      code: 'COMPRESSION_INVALID',
      layer: () => {
        const tar = tarFromEntries([{ path: 'a', type: 'file', data: Buffer.from('a') }]);
        // zlib would stop at the zeros and never see the member behind them; Go's reader fails.
        return rawBlobLayer(Buffer.concat([gzipSync(tar), Buffer.alloc(16), gzipSync(Buffer.from('second member behind zeros'))]), tar, 'gzip');
      },
    },
    {
      id: 'gzip-corrupt',
      title: 'a gzip layer whose deflate data is corrupt',
      code: 'COMPRESSION_INVALID',
      layer: () => {
        const tar = tarFromEntries([{ path: 'a', type: 'file', data: seededBytes('c', 5000) }]);
        const gz = gzipSync(tar);
        gz[Math.floor(gz.length / 2)]! ^= 0xff;
        return rawBlobLayer(gz, tar, 'gzip');
      },
    },
  ];
  for (const c of cases) {
    it(`${c.id}: ${c.title} -> ${c.code}`, async () => {
      const layers = [...base.layers, c.layer()];
      const hostile = assembleImage({ layers, config: defaultConfig(layers.map((_, i) => ({ created_by: `layer ${i}` }))) });
      const ref = `oci:${sbx.out}/${c.id}-src:t`;
      await writeImage(hostile, ref);
      const img = await openImage(ref);
      try {
        const report = await validateImage(img);
        expect(report.problems.map((p) => p.code)).toContain(c.code);
        await refused(() => analyzeImage(img), c.code, 'analyze');
        await refused(() => createPatch({ from: [baseRef], to: ref, output: path.join(sbx.out, 'p.lwp') }), c.code, 'patch create');
        await refused(() => copyImage(ref, `docker-archive:${sbx.out}/copy.tar:x/y:1`), c.code, 'copy to an archive (decompresses)');
        expect(existsSync(path.join(sbx.out, 'p.lwp')) || existsSync(path.join(sbx.out, 'copy.tar'))).toBe(false);
        await copyImage(ref, `oci:${sbx.out}/copy:t`);
        expectContained(c.id);
      } finally {
        await img.close();
        sbx.clearOut();
      }
    }, 120_000);
  }
});

describe('hostile layers through the CLI: one line, the stable code, exit 1', () => {
  const pick = ['symlink-write', 'hardlink-abs', 'dup-dot', 'opaque-after', 'pax-nul', 'bad-checksum'];
  for (const id of pick) {
    it(id, async () => {
      const c = cases.find((x) => x.id === id)!;
      const ref = `oci:${sbx.inputs}/${id}:t`;
      const env = { LAYERWISE_TMPDIR: sbx.tmp };
      const v = await layerwise(['validate', '-q', ref], { env, cwd: sbx.work });
      expect(v.code).toBe(1);
      expect(v.stdout).toMatch(new RegExp(`problem layer 1 .*\\[${c.code}\\]`));
      const runs = [
        ['analyze', '-q', ref],
        ['patch', 'create', '-q', '--from', baseRef, '--to', ref, '-o', `${sbx.out}/p.lwp`],
        ...(c.level === 'content'
          ? [
              ['patch', 'apply', '-q', `${sbx.inputs}/${id}.lwp`, '--from', baseRef, '--to', `oci:${sbx.out}/applied:1`],
              ['bundle', 'apply', '-q', `${sbx.inputs}/${id}.lwb`, '--from', baseRef, '--to', `oci:${sbx.out}/bundle`],
            ]
          : []),
      ];
      for (const args of runs) {
        const r = await layerwise(args, { env, cwd: sbx.work });
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
        expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
        expect(r.stderr).toMatch(new RegExp(`^layerwise: .*\\[${c.code}\\]\\n$`));
      }
      expect(readdirSync(sbx.out)).toEqual([]);
      expectContained(`${id} CLI`);
    });
  }
});
