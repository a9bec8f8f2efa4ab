import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { compress as zstdCompress } from 'zstd-napi';
import { afterAll, describe, expect, it } from 'vitest';
import { createPatch } from '../../src/patch/create.js';
import { applyPatch } from '../../src/patch/apply.js';
import { imageFromEntries, seededBytes } from '../../src/testing/images.js';
import { openImage, writeImage } from '../../src/transports/index.js';
import { tarFromEntries, type MemoryEntry } from '../../src/tar/writer.js';
import { xzDecompress } from '../../src/stream/xz.js';
import { haveTool } from '../support/tools.js';

const dir = mkdtempSync('/tmp/lw-archives-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An ar archive (the .deb container): "!<arch>\n", then 60-byte headers and even-padded members. */
function ar(members: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n')];
  for (const [name, data] of members) {
    const h = `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(data.length).padEnd(10)}\`\n`;
    parts.push(Buffer.from(h, 'latin1'), data);
    if (data.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

const payload = (seed: string): MemoryEntry[] => [
  { path: './usr/', type: 'dir' },
  { path: './usr/lib/', type: 'dir' },
  { path: `./usr/lib/${seed}.so`, type: 'file', data: seededBytes(`${seed}-so`, 120_000) },
  { path: `./usr/lib/${seed}.py`, type: 'file', data: Buffer.from(seededBytes(`${seed}-py`, 30_000).toString('base64')) },
];
const unpacked = (seed: string): MemoryEntry[] => [
  { path: `usr/lib/${seed}.so`, type: 'file', data: seededBytes(`${seed}-so`, 120_000) },
  { path: `usr/lib/${seed}.py`, type: 'file', data: Buffer.from(seededBytes(`${seed}-py`, 30_000).toString('base64')) },
];

async function roundTrip(newLayer: MemoryEntry[], expectArchiveFiles: number) {
  const base = [{ path: 'etc/', type: 'dir' as const }, { path: 'etc/os-release', type: 'file' as const, data: Buffer.from('NAME=test\n') }];
  const oldRef = `docker-archive:${path.join(dir, `old-${expectArchiveFiles}.tar`)}:t/a:1`;
  const newRef = `docker-archive:${path.join(dir, `new-${expectArchiveFiles}.tar`)}:t/a:2`;
  await writeImage(imageFromEntries([base], { compression: 'none', family: 'docker' }), oldRef);
  await writeImage(imageFromEntries([base, newLayer], { compression: 'none', family: 'docker' }), newRef);
  const patch = path.join(dir, `p-${expectArchiveFiles}.lwp`);
  const created = await createPatch({ from: [oldRef], to: newRef, output: patch });
  expect(created.header.stats.archiveFiles ?? 0).toBe(expectArchiveFiles);
  const out = `oci:${path.join(dir, `out-${expectArchiveFiles}`)}:t`;
  const applied = await applyPatch({ patch, from: [oldRef], to: out });
  const want = await openImage(newRef);
  expect(applied.imageId).toBe(want.id);
  const got = await openImage(out);
  expect(got.layers.map((l) => l.diffId)).toEqual(want.layers.map((l) => l.diffId));
  await got.close();
  await want.close();
  return statSync(patch).size;
}

describe('files unpacked from archives of the same layer are taken out of them', () => {
  it('a .deb with a gzip payload, a .tar.zst and an npm-style .tgz', async () => {
    const deb = ar([['debian-binary', Buffer.from('2.0\n')], ['control.tar.gz', gzipSync(tarFromEntries([{ path: './control', type: 'file', data: Buffer.from('Package: a\n') }]))], ['data.tar.gz', gzipSync(tarFromEntries(payload('deb')))]]);
    const zst = zstdCompress(tarFromEntries(payload('zst')));
    const tgz = gzipSync(tarFromEntries(payload('tgz')));
    const layer: MemoryEntry[] = [
      // Unpacked files first (as in real layers, usr/ sorts before var/), archives after.
      ...unpacked('deb'),
      ...unpacked('tgz'),
      ...unpacked('zst'),
      { path: 'var/cache/apt/archives/a_1.0_amd64.deb', type: 'file', data: deb },
      { path: 'var/cache/pkgs/b-1.0.tar.zst', type: 'file', data: zst },
      { path: 'root/.npm/_cacache/c-1.0.tgz', type: 'file', data: tgz },
    ];
    const bytes = await roundTrip(layer, 6);
    // The archives are random bytes, incompressible: the patch holds them once, not twice.
    const archives = deb.length + zst.length + tgz.length;
    expect(bytes).toBeLessThan(archives * 1.1);
  });

  it.skipIf(!haveTool('xz', 'xz-utils'))('a .deb with an xz payload (Debian\'s default)', async () => {
    const data = execFileSync('xz', ['-6', '-c'], { input: tarFromEntries(payload('xzdeb')) });
    const deb = ar([['debian-binary', Buffer.from('2.0\n')], ['data.tar.xz', data]]);
    const bytes = await roundTrip([...unpacked('xzdeb'), { path: 'var/cache/apt/archives/x_2_amd64.deb', type: 'file', data: deb }], 2);
    expect(bytes).toBeLessThan(deb.length * 1.2);
  });

  it.skipIf(!haveTool('xz', 'xz-utils'))('a .deb whose xz payload is corrupt is shipped as plain data, not unpacked, and the image still rebuilds', async () => {
    const data = execFileSync('xz', ['-6', '-c'], { input: tarFromEntries(payload('badxz')) });
    data[Math.floor(data.length / 2)] ^= 0xff;
    const deb = ar([['debian-binary', Buffer.from('2.0\n')], ['data.tar.xz', data]]);
    await roundTrip([...unpacked('badxz'), { path: 'var/cache/apt/archives/y_3_amd64.deb', type: 'file', data: deb }], 0);
  });

  it.skipIf(!haveTool('xz', 'xz-utils'))('an xz stream left early releases the decoder: the next one decodes in full', async () => {
    const text = Buffer.from(Array.from({ length: 200_000 }, (_, i) => `line ${i}\n`).join(''));
    const xz = execFileSync('xz', ['-1', '-c'], { input: text });
    for (let i = 0; i < 2; i++) {
      let seen = 0;
      for await (const c of xzDecompress(xz, 'early') as AsyncIterable<Buffer>) {
        seen += c.length;
        if (seen > 50_000) break;
      }
      expect(seen).toBeGreaterThan(50_000);
    }
    const parts: Buffer[] = [];
    for await (const c of xzDecompress(xz, 'full') as AsyncIterable<Buffer>) parts.push(c);
    expect(Buffer.concat(parts).equals(text)).toBe(true);
  }, 10_000);
});
