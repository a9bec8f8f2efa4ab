/**
 * `build --add` walks a folder that may hold anything: symlinks pointing out of it, FIFOs, sockets,
 * hardlinks, names that are only legal on Linux. It stores links as links (never follows them), never
 * reads or writes outside the folder and the destination, and makes layers every reader accepts.
 */
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, readdirSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateImage } from '../../src/image/validate.js';
import { readTarEntriesInMemory } from '../../src/tar/reader.js';
import { imageFromEntries } from '../../src/testing/images.js';
import { openImage, writeImage } from '../../src/transports/index.js';
import { layerwise } from '../support/run.js';
import { Sandbox } from './sandbox.js';

const sbx = new Sandbox('build');
const baseRef = `oci:${sbx.inputs}/base:1`;
const folder = path.join(sbx.inputs, 'folder');
let server: net.Server;

beforeAll(async () => {
  await writeImage(imageFromEntries([[{ path: 'app/', type: 'dir' }, { path: 'app/conf/', type: 'dir' }, { path: 'app/conf/old.ini', type: 'file', data: Buffer.from('old') }]]), baseRef);
  mkdirSync(path.join(folder, 'a'), { recursive: true });
  writeFileSync(path.join(folder, 'a', 'x'), 'shared content\n');
  linkSync(path.join(folder, 'a', 'x'), path.join(folder, 'a-b')); // sorts before a/x: the link must still follow its target
  symlinkSync('/etc', path.join(folder, 'etc-link'));
  symlinkSync('/etc/passwd', path.join(folder, 'passwd-link'));
  symlinkSync('../../../../../../..', path.join(folder, 'up'));
  execFileSync('mkfifo', [path.join(folder, 'fifo')]);
  writeFileSync(path.join(folder, 'suid'), '#!/bin/sh\n');
  chmodSync(path.join(folder, 'suid'), 0o4755);
  writeFileSync(path.join(folder, 'conf'), 'a file where the base has a folder\n');
  server = net.createServer();
  await new Promise<void>((r) => server.listen(path.join(folder, 'socket'), r));
  sbx.snapshot();
});

afterAll(() => {
  server?.close();
  sbx.remove();
});

async function layerEntries(ref: string) {
  const img = await openImage(ref);
  try {
    const report = await validateImage(img);
    expect(report.problems).toEqual([]);
    const last = img.layers[img.layers.length - 1]!;
    return (await readTarEntriesInMemory(await last.uncompressed(), { subject: 'new layer' })).map(({ entry, data }) => ({ path: entry.path, type: entry.type, link: entry.linkpath, mode: entry.mode, size: data.length }));
  } finally {
    await img.close();
  }
}

describe('build --add over a hostile folder', () => {
  it('stores links as links, keeps FIFOs and setuid, skips the socket, orders hardlinks, and --replace stays valid', async () => {
    const dest = `oci:${sbx.out}/built:1`;
    const r = await layerwise(['build', '-q', '--base', baseRef, '--add', `${folder}:/app`, '--replace', '--to', dest], { cwd: sbx.work, env: { LAYERWISE_TMPDIR: sbx.tmp } });
    expect(r.code, r.stderr).toBe(0);
    const entries = await layerEntries(dest);
    const by = (p: string) => entries.find((e) => e.path === p);
    expect(by('app/etc-link')).toMatchObject({ type: 'symlink', link: '/etc' });
    expect(by('app/passwd-link')).toMatchObject({ type: 'symlink', link: '/etc/passwd', size: 0 });
    expect(by('app/up')).toMatchObject({ type: 'symlink', link: '../../../../../../..' });
    expect(entries.some((e) => e.path.startsWith('app/etc-link/') || e.path.startsWith('app/up/'))).toBe(false);
    expect(by('app/fifo')).toMatchObject({ type: 'fifo', size: 0 });
    expect(by('app/suid')?.mode).toBe(0o4755);
    expect(by('app/socket')).toBeUndefined();
    const link = entries.findIndex((e) => e.type === 'hardlink');
    const file = entries.findIndex((e) => e.path === entries[link]?.link);
    expect(file).toBeGreaterThanOrEqual(0);
    expect(file).toBeLessThan(link);
    // The base's app/conf/ folder is replaced by a file: no whiteouts below the file.
    expect(by('app/conf')).toMatchObject({ type: 'file' });
    expect(entries.filter((e) => e.path.startsWith('app/conf/'))).toEqual([]);
    expect(sbx.changes()).toEqual([]);
    expect(readdirSync(sbx.tmp)).toEqual([]);
    sbx.clearOut();
  });

  it('refuses a name that is legal on Linux but climbs out elsewhere ("..\\\\x"), writing nothing', async () => {
    const evil = path.join(sbx.root, 'evil-folder');
    mkdirSync(evil);
    writeFileSync(path.join(evil, '..\\..\\escaped'), 'x');
    sbx.snapshot();
    const r = await layerwise(['build', '-q', '--base', baseRef, '--add', `${evil}:/app`, '--to', `oci:${sbx.out}/evil:1`], { cwd: sbx.work, env: { LAYERWISE_TMPDIR: sbx.tmp } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^layerwise: [^\n]*climbs out[^\n]*\[TAR_PATH_UNSAFE\]\n$/);
    expect(readdirSync(sbx.out)).toEqual([]);
    expect(sbx.changes()).toEqual([]);
    expect(readdirSync(sbx.tmp)).toEqual([]);
  });
});
