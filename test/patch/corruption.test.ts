import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPatch } from '../../src/patch/create.js';
import { applyPatch } from '../../src/patch/apply.js';
import { isLayerwiseError } from '../../src/errors.js';
import { imageFromEntries, seededBytes } from '../../src/testing/images.js';
import { writeImage, openImage } from '../../src/transports/index.js';
import { indexTarFile } from '../../src/tar/index-file.js';
import type { MemoryEntry } from '../../src/tar/writer.js';
import { layerwise } from '../support/run.js';

const dir = mkdtempSync('/tmp/lw-patch-bad-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = (seed: string, n: number) => Buffer.from(seededBytes(seed, n).toString('base64'));
const base: MemoryEntry[][] = [
  [{ path: 'bin/', type: 'dir' }, { path: 'bin/tool', type: 'file', mode: 0o755, data: seededBytes('tool', 50_000) }],
  [{ path: 'app/', type: 'dir' }, { path: 'app/main.js', type: 'file', data: text('main', 30_000) }, { path: 'app/lib.js', type: 'file', data: text('lib', 20_000) }],
];
const next: MemoryEntry[][] = [
  base[0]!,
  [
    { path: 'app/', type: 'dir', mtime: 99 },
    { path: 'app/main.js', type: 'file', data: Buffer.concat([text('main', 30_000).subarray(0, 12_000), Buffer.from('// fixed\n'), text('main', 30_000).subarray(12_000)]) },
    { path: 'app/lib.js', type: 'file', data: text('lib', 20_000) },
    { path: 'app/new.js', type: 'file', data: text('new', 4000) },
  ],
];

let oldRef: string;
let otherRef: string;
let patchFile: string;

beforeAll(async () => {
  oldRef = `docker-archive:${path.join(dir, 'old.tar')}:t/app:1`;
  otherRef = `docker-archive:${path.join(dir, 'other.tar')}:t/other:1`;
  await writeImage(imageFromEntries(base, { compression: 'none', family: 'docker' }), oldRef);
  await writeImage(imageFromEntries([[{ path: 'x', type: 'file', data: Buffer.from('unrelated') }]], { compression: 'none', family: 'docker' }), otherRef);
  await writeImage(imageFromEntries(next, { compression: 'none', family: 'docker' }), `docker-archive:${path.join(dir, 'new.tar')}:t/app:2`);
  patchFile = path.join(dir, 'update.lwp');
  await createPatch({ from: [oldRef], to: `docker-archive:${path.join(dir, 'new.tar')}`, output: patchFile });
});

/** Applies and expects failure with `code`; the destination must not exist and no temporary files remain. */
async function expectFails(patch: string, from: string, code: string | string[]) {
  const dest = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
  let caught: unknown;
  try {
    await applyPatch({ patch, from: [from], to: `oci:${dest}:t` });
  } catch (err) {
    caught = err;
  }
  const codes = Array.isArray(code) ? code : [code];
  expect(isLayerwiseError(caught) && codes.includes(caught.code), `got ${(caught as Error)?.message}`).toBe(true);
  expect(existsSync(dest)).toBe(false);
  expect(readdirSync(dir).filter((n) => n.includes('lw-tmp'))).toEqual([]);
  return caught as Error;
}

describe('patch apply refuses bad input before writing anything', () => {
  it('applies cleanly to the right base (control)', async () => {
    const dest = `oci:${path.join(dir, 'good')}:t`;
    const r = await applyPatch({ patch: patchFile, from: [oldRef], to: dest });
    const img = await openImage(dest);
    expect(img.id).toBe(r.imageId);
    await img.close();
  });

  it('wrong base: names what is missing', async () => {
    const err = await expectFails(patchFile, otherRef, 'PATCH_BASE_MISSING');
    expect(err.message).toMatch(/lacks 2 layer/);
    expect(err.message).toContain('old.tar');
  });

  it('truncated patch', async () => {
    const bytes = readFileSync(patchFile);
    for (const cut of [10, 50, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const t = path.join(dir, `trunc-${cut}.lwp`);
      writeFileSync(t, bytes.subarray(0, cut));
      await expectFails(t, oldRef, ['PATCH_INVALID', 'PATCH_CORRUPT']);
    }
  });

  it('a flipped byte anywhere in the patch', async () => {
    const bytes = readFileSync(patchFile);
    const positions = new Set<number>();
    for (let i = 0; i < 60; i++) positions.add(Math.floor((i / 60) * bytes.length));
    for (let i = 0; i < 48; i++) positions.add(i); // magic, length, start of header
    positions.add(bytes.length - 1);
    for (const pos of positions) {
      const f = path.join(dir, 'flip.lwp');
      const copy = Buffer.from(bytes);
      copy[pos] ^= 0x40;
      writeFileSync(f, copy);
      await expectFails(f, oldRef, ['PATCH_INVALID', 'PATCH_CORRUPT', 'PATCH_VERSION']);
    }
  });

  it('a flipped byte in the base image (a referenced file, and a reused layer)', async () => {
    const file = path.join(dir, 'old.tar');
    const index = await indexTarFile(file);
    const layerMembers = [...index.members.values()].filter((m) => m.type === 'file' && m.size > 10_000).sort((a, b) => a.dataOffset - b.dataOffset);
    for (const m of layerMembers) {
      const copy = readFileSync(file);
      copy[m.dataOffset + Math.floor(m.size / 2)] ^= 0x01;
      const bad = path.join(dir, 'old-bad.tar');
      writeFileSync(bad, copy);
      const err = await expectFails(patchFile, `docker-archive:${bad}`, ['PATCH_BASE_MISMATCH', 'DIFFID_MISMATCH', 'DIGEST_MISMATCH']);
      expect(err.message).toMatch(/old-bad\.tar|base/);
    }
    expect(statSync(file).size).toBeGreaterThan(0);
  });

  it('the CLI reports each failure in one line with its code and a non-zero exit', async () => {
    const r = await layerwise(['patch', 'apply', patchFile, '--from', otherRef, '--to', `oci:${dir}/cli-out:t`]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('[PATCH_BASE_MISSING]');
    expect(existsSync(`${dir}/cli-out`)).toBe(false);
  });
});
