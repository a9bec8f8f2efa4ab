/**
 * setuid/setgid/sticky bits, device nodes, FIFOs, xattrs and large ids are image content: allowed in
 * layers, carried byte for byte through copy (every transport) and through patch create/apply, and never
 * created on the host.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyImage } from '../../src/image/copy.js';
import { validateImage } from '../../src/image/validate.js';
import type { Image } from '../../src/model/image.js';
import { applyPatch } from '../../src/patch/apply.js';
import { createPatch } from '../../src/patch/create.js';
import { readTarEntriesInMemory } from '../../src/tar/reader.js';
import type { MemoryEntry } from '../../src/tar/writer.js';
import { imageFromEntries, seededBytes } from '../../src/testing/images.js';
import { openImage, writeImage } from '../../src/transports/index.js';
import { Sandbox } from './sandbox.js';

const sbx = new Sandbox('preserve');
const savedTmp = process.env.LAYERWISE_TMPDIR;

function special(version: number): MemoryEntry[] {
  return [
    { path: 'dev/', type: 'dir', mode: 0o755 },
    { path: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 },
    { path: 'dev/sda', type: 'block', mode: 0o660, devmajor: 8, devminor: 0, gid: 6 },
    { path: 'dev/tty5', type: 'char', mode: 0o620, devmajor: 4, devminor: 5, uname: 'root', gname: 'tty' },
    { path: 'run/', type: 'dir', mode: 0o755 },
    { path: 'run/initctl', type: 'fifo', mode: 0o600 },
    { path: 'tmp/', type: 'dir', mode: 0o1777 },
    { path: 'srv/', type: 'dir', mode: 0o2775, gid: 50 },
    { path: 'usr/bin/', type: 'dir', mode: 0o755 },
    { path: 'usr/bin/passwd', type: 'file', mode: 0o4755, data: seededBytes(`passwd${version}`, 3000) },
    { path: 'usr/bin/wall', type: 'file', mode: 0o2755, gid: 5, data: seededBytes('wall', 2000) },
    { path: 'usr/bin/ping', type: 'file', mode: 0o755, data: seededBytes('ping', 2500), pax: { 'SCHILY.xattr.security.capability': 'cap_net_raw+ep', 'SCHILY.xattr.user.note': 'kept' } },
    { path: 'usr/bin/ping6', type: 'hardlink', linkpath: 'usr/bin/ping' },
    { path: 'home/', type: 'dir', mode: 0o755 },
    { path: 'home/big-ids', type: 'file', mode: 0o600, uid: 3_000_000, gid: 3_000_000, data: Buffer.from(`v${version}\n`) },
    { path: 'etc/', type: 'dir', mode: 0o755 },
    { path: 'etc/alternatives/', type: 'dir', mode: 0o755 },
    { path: 'etc/alternatives/pager', type: 'symlink', linkpath: '/usr/bin/less' },
  ];
}

async function entriesOf(img: Image, i: number) {
  const tar = await readTarEntriesInMemory(await img.layers[i]!.uncompressed(), { subject: 'layer' });
  return tar.map(({ entry }) => ({ path: entry.path, type: entry.type, mode: entry.mode, dev: [entry.devmajor, entry.devminor], ids: [entry.uid, entry.gid], pax: entry.pax ? Object.fromEntries(entry.pax) : undefined }));
}

let v1: Image;
let v2: Image;

beforeAll(async () => {
  process.env.LAYERWISE_TMPDIR = sbx.tmp;
  v1 = imageFromEntries([[{ path: 'etc/os-release', type: 'file', data: Buffer.from('ID=x\n') }], special(1)], { compression: 'gzip' });
  v2 = imageFromEntries([[{ path: 'etc/os-release', type: 'file', data: Buffer.from('ID=x\n') }], special(2)], { compression: 'gzip' });
  await writeImage(v1, `oci:${sbx.inputs}/v1:1`);
  await writeImage(v2, `oci:${sbx.inputs}/v2:1`);
  sbx.snapshot();
});

afterAll(() => {
  if (savedTmp === undefined) delete process.env.LAYERWISE_TMPDIR;
  else process.env.LAYERWISE_TMPDIR = savedTmp;
  sbx.remove();
});

describe('special files are preserved in layers and never created on the host', () => {
  it('the layer holds what was written: modes with setuid/setgid/sticky, device numbers, FIFOs, xattrs, large ids', async () => {
    const e = await entriesOf(v2, 1);
    const by = (p: string) => e.find((x) => x.path === p)!;
    expect(by('usr/bin/passwd').mode).toBe(0o4755);
    expect(by('usr/bin/wall').mode).toBe(0o2755);
    expect(by('tmp/').mode).toBe(0o1777);
    expect(by('srv/').mode).toBe(0o2775);
    expect(by('dev/null')).toMatchObject({ type: 'char', dev: [1, 3] });
    expect(by('dev/sda')).toMatchObject({ type: 'block', dev: [8, 0] });
    expect(by('run/initctl').type).toBe('fifo');
    expect(by('usr/bin/ping').pax).toMatchObject({ 'SCHILY.xattr.security.capability': 'cap_net_raw+ep' });
    expect(by('home/big-ids').ids).toEqual([3_000_000, 3_000_000]);
    const img = await openImage(`oci:${sbx.inputs}/v2:1`);
    expect((await validateImage(img)).problems).toEqual([]);
    await img.close();
  });

  it('copy through every file transport keeps every layer byte for byte (same diffIDs, same image ID)', async () => {
    const hops = [`docker-archive:${sbx.out}/a.tar:x/special:2`, `oci-archive:${sbx.out}/b.tar:2`, `oci:${sbx.out}/c:2`];
    let from = `oci:${sbx.inputs}/v2:1`;
    for (const to of hops) {
      await copyImage(from, to);
      const img = await openImage(to);
      expect(img.id).toBe(v2.id);
      expect(img.layers.map((l) => l.diffId)).toEqual(v2.layers.map((l) => l.diffId));
      expect(await entriesOf(img, 1)).toEqual(await entriesOf(v2, 1));
      expect((await validateImage(img)).ok).toBe(true);
      await img.close();
      from = to;
    }
    expect(sbx.specialFilesInOut()).toEqual([]);
    expect(sbx.changes()).toEqual([]);
    expect(readdirSync(sbx.tmp)).toEqual([]);
    sbx.clearOut();
  });

  it('patch create/apply rebuilds the layer with them byte for byte', async () => {
    const patch = path.join(sbx.out, 'u.lwp');
    const made = await createPatch({ from: [`oci:${sbx.inputs}/v1:1`], to: `oci:${sbx.inputs}/v2:1`, output: patch });
    expect(made.header.stats.rebuiltLayers).toBe(1);
    for (const to of [`oci:${sbx.out}/applied:2`, `docker-archive:${sbx.out}/applied.tar:x/special:2`]) {
      const r = await applyPatch({ patch, from: [`oci:${sbx.inputs}/v1:1`], to });
      expect(r.imageId).toBe(v2.id);
      const img = await openImage(to);
      expect(img.layers.map((l) => l.diffId)).toEqual(v2.layers.map((l) => l.diffId));
      expect(await entriesOf(img, 1)).toEqual(await entriesOf(v2, 1));
      await img.close();
    }
    expect(sbx.specialFilesInOut()).toEqual([]);
    expect(sbx.changes()).toEqual([]);
    expect(readdirSync(sbx.tmp)).toEqual([]);
    sbx.clearOut();
  });
});
