import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validateImage } from '../../src/image/validate.js';
import { copyImage } from '../../src/image/copy.js';
import type { Image } from '../../src/model/image.js';
import { randomImage } from '../../src/testing/images.js';
import { openImage, writeImage } from '../../src/transports/index.js';
import { RegistryClient } from '../../src/transports/registry/client.js';
import { isBlobGet, isBlobUpload, startFaultProxy, uploadedBytes, type FaultProxy, type ProxyEntry } from '../support/fault-proxy.js';
import { haveRegistry, startRegistry, type TestRegistry } from '../support/registry.js';
import { layerwise } from '../support/run.js';

const enabled = haveRegistry();
const work = mkdtempSync('/tmp/lw-regfault-');
let reg: TestRegistry;
let proxy: FaultProxy;
/** Fast backoff so the retry paths run in milliseconds. */
const fast = { insecure: true, retryDelayMs: 5 };

beforeAll(async () => {
  if (!enabled) return;
  reg = await startRegistry({ label: 'fault' });
  proxy = await startFaultProxy(reg);
});
afterAll(async () => {
  await proxy?.close();
  await reg?.stop();
  rmSync(work, { recursive: true, force: true });
});
beforeEach(() => {
  if (proxy) proxy.rules = {};
});

const identity = (img: Image) => ({ id: img.id, diffIds: img.layers.map((l) => l.diffId), digest: img.digest, blobs: img.layers.map((l) => l.descriptor.digest) });
/** Uncompressed layers, so a cut at a byte offset lands mid-blob and resumes at exactly that offset. */
const bigImage = (seed: string) => randomImage({ layers: 3, filesPerLayer: 2, fileSize: 150_000, seed, compression: 'none' });
const blobSize = (img: Image, url: string) => img.layers.find((l) => url.endsWith(l.descriptor.digest))?.descriptor.size ?? 0;

describe.skipIf(!enabled)('registry transfers through a fault-injecting proxy', () => {
  it('resumes a pull cut mid-blob with Range requests, twice per blob, and the result verifies', async () => {
    const src = bigImage('resume');
    await writeImage(src, `docker://${reg.host}/lw/resume:1`, { registry: fast });
    const cuts = new Map<string, number>();
    proxy.rules.cutResponse = (e) => {
      if (!isBlobGet(e)) return undefined;
      const n = cuts.get(e.url) ?? 0;
      if (n >= 2) return undefined;
      cuts.set(e.url, n + 1);
      // A third of the blob per response: the first ends at 1/3, the resumed one at 2/3.
      return Math.floor(blobSize(src, e.url) / 3);
    };
    const mark = proxy.log.length;
    const dest = path.join(work, 'resumed');
    await copyImage(`docker://${proxy.host}/lw/resume:1`, `oci:${dest}:v1`, { open: { registry: fast } });
    const blobGets = proxy.log.slice(mark).filter(isBlobGet);
    for (const layer of src.layers) {
      const size = layer.descriptor.size;
      const mine = blobGets.filter((e) => e.url.endsWith(layer.descriptor.digest));
      expect(mine.map((e) => [e.range, e.status, e.fault])).toEqual([
        [undefined, 200, 'cut-response'],
        [`bytes=${Math.floor(size / 3)}-`, 206, 'cut-response'],
        [`bytes=${2 * Math.floor(size / 3)}-`, 206, undefined],
      ]);
      expect(mine.reduce((s, e) => s + e.responseBytes, 0)).toBe(size);
    }
    const back = await openImage(`oci:${dest}:v1`);
    expect(identity(back)).toEqual(identity(src));
    expect((await validateImage(back)).ok).toBe(true);
    await back.close();
  });

  it('resumes even when the server ignores Range (skips what it already delivered)', async () => {
    const src = bigImage('norange');
    await writeImage(src, `docker://${reg.host}/lw/norange:1`, { registry: fast });
    const cut = new Set<string>();
    proxy.rules.cutResponse = (e) => {
      if (!isBlobGet(e) || cut.has(e.url)) return undefined;
      cut.add(e.url);
      return Math.floor(blobSize(src, e.url) / 2);
    };
    proxy.rules.ignoreRange = () => true;
    const img = await openImage(`docker://${proxy.host}/lw/norange:1`, { registry: fast });
    try {
      const report = await validateImage(img);
      expect(report.problems).toEqual([]);
      expect(report.layers.map((l) => l.digest)).toEqual(src.layers.map((l) => l.descriptor.digest));
    } finally {
      await img.close();
    }
    expect(proxy.log.filter((e) => e.fault === 'range-ignored').length).toBe(3);
  });

  it('gives up resuming after the bounded number of retries when the registry stays down', async () => {
    const src = bigImage('down');
    await writeImage(src, `docker://${reg.host}/lw/down:1`, { registry: fast });
    proxy.rules.cutResponse = (e) => (isBlobGet(e) && !e.range ? 5000 : undefined);
    proxy.rules.respond = (e) => (isBlobGet(e) && e.range ? 503 : undefined);
    const mark = proxy.log.length;
    const dest = path.join(work, 'down-dest');
    await expect(copyImage(`docker://${proxy.host}/lw/down:1`, `oci:${dest}:v1`, { open: { registry: { ...fast, retries: 3 } } })).rejects.toMatchObject({ code: 'REGISTRY_ERROR', message: expect.stringContaining('HTTP 503') });
    expect(proxy.log.slice(mark).filter((e) => isBlobGet(e) && e.range === 'bytes=5000-').length).toBe(3);
    expect(existsSync(dest)).toBe(false);
  });

  it('reports a blob the registry cannot resume past (416) as SIZE_MISMATCH', async () => {
    const src = bigImage('short');
    await writeImage(src, `docker://${reg.host}/lw/short:1`, { registry: fast });
    proxy.rules.cutResponse = (e) => (isBlobGet(e) && !e.range ? 1000 : undefined);
    proxy.rules.respond = (e) => (isBlobGet(e) && e.range ? 416 : undefined);
    const dest = path.join(work, 'short-dest');
    await expect(copyImage(`docker://${proxy.host}/lw/short:1`, `oci:${dest}:v1`, { open: { registry: fast } })).rejects.toMatchObject({ code: 'SIZE_MISMATCH', message: expect.stringContaining('truncated') });
    expect(existsSync(dest)).toBe(false);
  });

  it('rejects a blob corrupted in transit (DIGEST_MISMATCH) and writes nothing at the destination', async () => {
    const src = bigImage('corrupt');
    await writeImage(src, `docker://${reg.host}/lw/corrupt:1`, { registry: fast });
    proxy.rules.corruptResponse = (e) => (isBlobGet(e) && e.url.endsWith(src.layers[1]!.descriptor.digest) ? 1000 : undefined);
    const dest = path.join(work, 'corrupt-dest');
    const err = await copyImage(`docker://${proxy.host}/lw/corrupt:1`, `oci:${dest}:v1`, { open: { registry: fast } }).catch((e: unknown) => e);
    expect(err, String(err)).toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(existsSync(dest)).toBe(false);
    const archive = path.join(work, 'corrupt.tar');
    const r = await layerwise(['copy', '--insecure', '-q', `docker://${proxy.host}/lw/corrupt:1`, `oci-archive:${archive}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^layerwise: .*layer 1 .*content is sha256:[0-9a-f]{64}, expected sha256:[0-9a-f]{64} \[DIGEST_MISMATCH\]\n$/);
    expect(existsSync(archive)).toBe(false);
    // Pushing from the corrupting source to another registry repository tags nothing there either.
    await expect(copyImage(`docker://${proxy.host}/lw/corrupt:1`, `docker://${reg.host}/lw/corrupt-copy:1`, { open: { registry: fast }, write: { registry: fast } })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    const client = await RegistryClient.create(reg.host, { insecure: true });
    try {
      expect(await client.headManifest('lw/corrupt-copy', '1')).toBeUndefined();
    } finally {
      client.close();
    }
  });

  it('retries pushes whose connection is cut mid-body, restarting the upload, monolithic and chunked', async () => {
    for (const mode of ['monolithic', 'chunked'] as const) {
      const src = bigImage(`pushcut-${mode}`);
      let cuts = 0;
      // The first three blob-carrying PUTs or PATCHes are cut after 40 kB.
      proxy.rules.cutRequest = (e: ProxyEntry) => (isBlobUpload(e) && e.contentLength > 80_000 && cuts++ < 3 ? 40_000 : undefined);
      const mark = proxy.log.length;
      const registry = mode === 'chunked' ? { ...fast, chunkThreshold: 1000, chunkSize: 100_000 } : fast;
      await writeImage(src, `docker://${proxy.host}/lw/pushcut-${mode}:1`, { registry });
      const mine = proxy.log.slice(mark);
      expect(mine.filter((e) => e.fault === 'cut-request').length).toBe(3);
      if (mode === 'chunked') expect(mine.some((e) => e.method === 'PATCH' && e.fault === 'cut-request')).toBe(true);
      // Every cut forced a new upload session.
      const posts = mine.filter((e) => e.method === 'POST' && e.url.includes('/blobs/uploads/'));
      expect(posts.length).toBe(1 + src.layers.length + 3);
      proxy.rules = {};
      const back = await openImage(`docker://${reg.host}/lw/pushcut-${mode}:1`, { registry: fast });
      expect(identity(back)).toEqual(identity(src));
      expect((await validateImage(back)).ok).toBe(true);
      await back.close();
    }
  });

  it('a blob corrupted on its way to the registry is refused there (DIGEST_MISMATCH) and the tag is not written', async () => {
    const src = bigImage('corrupt-push');
    proxy.rules.corruptRequest = (e) => (isBlobUpload(e) && e.method === 'PUT' ? 5 : undefined);
    await expect(writeImage(src, `docker://${proxy.host}/lw/corrupt-push:1`, { registry: fast })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    proxy.rules = {};
    const client = await RegistryClient.create(reg.host, { insecure: true });
    try {
      expect(await client.headManifest('lw/corrupt-push', '1')).toBeUndefined();
    } finally {
      client.close();
    }
  });

  it('retries 5xx answers with backoff, and gives up after the bounded number of retries', async () => {
    const src = randomImage({ layers: 1, seed: 'flaky' });
    await writeImage(src, `docker://${reg.host}/lw/flaky:1`, { registry: fast });
    let failures = 0;
    proxy.rules.respond = (e) => (e.url.includes('/manifests/') && failures++ < 2 ? 503 : undefined);
    const img = await openImage(`docker://${proxy.host}/lw/flaky:1`, { registry: fast });
    expect(img.id).toBe(src.id);
    await img.close();
    expect(failures).toBe(3);
    proxy.rules.respond = (e) => (e.url.includes('/manifests/') ? 503 : undefined);
    const mark = proxy.log.length;
    await expect(openImage(`docker://${proxy.host}/lw/flaky:1`, { registry: { ...fast, retries: 2 } })).rejects.toMatchObject({ code: 'REGISTRY_ERROR', message: expect.stringContaining('HTTP 503') });
    expect(proxy.log.slice(mark).filter((e) => e.url.includes('/manifests/')).length).toBe(3);
  });

  it('moves no blob data when pushing an image the registry already has (counted at the proxy)', async () => {
    const src = bigImage('nodata');
    await writeImage(src, `docker://${proxy.host}/lw/nodata:1`, { registry: fast });
    const mark = proxy.log.length;
    const r = await layerwise(['copy', '--insecure', `docker://${proxy.host}/lw/nodata:1`, `docker://${proxy.host}/lw/nodata:1`]);
    expect(r.code, r.stderr).toBe(0);
    expect(uploadedBytes(proxy.log.slice(mark))).toBe(0);
    expect(r.stderr).toMatch(/0 blob\(s\) uploaded \(0 B\), 4 already present/);
  });
});
