import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateImage } from '../../src/image/validate.js';
import { MemoryLayer, assembleImage, defaultConfig } from '../../src/image/memory.js';
import { manifestToBytes, type ImageIndex } from '../../src/model/manifest.js';
import { MediaType } from '../../src/model/media-types.js';
import type { Image } from '../../src/model/image.js';
import { openImage, writeImage } from '../../src/transports/index.js';
import { RegistryClient } from '../../src/transports/registry/client.js';
import { randomImage, seededBytes, imageFromEntries } from '../../src/testing/images.js';
import { startFaultProxy, uploadedBytes, isBlobUpload, type FaultProxy } from '../support/fault-proxy.js';
import { haveRegistry, startRegistry, type TestRegistry } from '../support/registry.js';
import { layerwise } from '../support/run.js';

const enabled = haveRegistry();
const work = mkdtempSync('/tmp/lw-regtest-');
let reg: TestRegistry;
let proxy: FaultProxy;
const insecure = { registry: { insecure: true } };

beforeAll(async () => {
  if (!enabled) return;
  reg = await startRegistry({ label: 'pp' });
  proxy = await startFaultProxy(reg);
});
afterAll(async () => {
  await proxy?.close();
  await reg?.stop();
  rmSync(work, { recursive: true, force: true });
});

const identity = (img: Image) => ({ id: img.id, diffIds: img.layers.map((l) => l.diffId), digest: img.digest });

describe.skipIf(!enabled)('docker:// push and pull against docker-registry (plain HTTP, --insecure)', () => {
  for (const family of ['oci', 'docker'] as const) {
    it(`pushes and pulls a ${family} image byte for byte, and it validates`, async () => {
      const src = randomImage({ layers: 3, filesPerLayer: 3, fileSize: 4000, seed: `pp-${family}`, family });
      const ref = `docker://${reg.host}/lw/${family}:v1`;
      const res = await writeImage(src, ref, insecure);
      expect(res.manifestDigest).toBe(src.digest);
      expect(res.changed).toEqual([]);
      const img = await openImage(ref, insecure);
      try {
        expect(identity(img)).toEqual(identity(src));
        expect(img.manifestBytes.equals(src.manifestBytes)).toBe(true);
        expect(img.mediaType).toBe(src.mediaType);
        expect(img.names).toEqual([`${reg.host}/lw/${family}:v1`]);
        const report = await validateImage(img);
        expect(report.problems).toEqual([]);
      } finally {
        await img.close();
      }
      const byDigest = await openImage(`docker://${reg.host}/lw/${family}@${src.digest}`, insecure);
      expect(byDigest.digest).toBe(src.digest);
      await byDigest.close();
    });
  }

  it('uploads small blobs in one PUT and large ones in PATCH chunks, per the threshold', async () => {
    const big = MemoryLayer.fromTar(
      (await import('../../src/tar/writer.js')).tarFromEntries([{ path: 'big.bin', type: 'file', mode: 0o644, data: seededBytes('big', 300_000) }]),
      { compression: 'none' },
    );
    const small = MemoryLayer.fromTar((await import('../../src/tar/writer.js')).tarFromEntries([{ path: 's.txt', type: 'file', mode: 0o644, data: Buffer.from('small') }]), { compression: 'gzip' });
    const img = assembleImage({ layers: [small, big], config: defaultConfig([{ created_by: 'small' }, { created_by: 'big' }]) });
    const before = proxy.log.length;
    await writeImage(img, `docker://${proxy.host}/lw/chunks:1`, { registry: { insecure: true, chunkThreshold: 100_000, chunkSize: 64 * 1024 } });
    const mine = proxy.log.slice(before);
    const patches = mine.filter((e) => e.method === 'PATCH');
    // 300 kB tar + padding in 64 KiB chunks: 5 PATCHes with contiguous Content-Ranges.
    expect(patches.length).toBe(Math.ceil(big.descriptor.size / 65536));
    let next = 0;
    for (const p of patches) {
      const [a, b] = p.contentRange!.split('-').map(Number);
      expect(a).toBe(next);
      next = b! + 1;
      expect(p.requestBytes).toBe(b! - a! + 1);
    }
    expect(next).toBe(big.descriptor.size);
    const monolithic = mine.filter((e) => e.method === 'PUT' && e.url.includes('/blobs/uploads/') && e.requestBytes > 0);
    expect(monolithic.map((e) => e.requestBytes).sort((x, y) => x - y)).toEqual([img.configBytes.length, small.descriptor.size].sort((x, y) => x - y));
    const back = await openImage(`docker://${proxy.host}/lw/chunks:1`, insecure);
    expect(identity(back)).toEqual(identity(img));
    expect((await validateImage(back)).ok).toBe(true);
    await back.close();
  });

  it('moves no blob bytes when pushing an image the registry already has', async () => {
    const src = randomImage({ layers: 3, seed: 'again', fileSize: 20_000 });
    const ref = `docker://${proxy.host}/lw/again:1`;
    let mark = proxy.log.length;
    await writeImage(src, ref, insecure);
    const first = uploadedBytes(proxy.log.slice(mark));
    expect(first).toBe(src.configBytes.length + src.layers.reduce((s, l) => s + l.descriptor.size, 0));
    mark = proxy.log.length;
    await writeImage(src, ref, insecure);
    const second = proxy.log.slice(mark);
    expect(uploadedBytes(second)).toBe(0);
    expect(second.filter(isBlobUpload)).toEqual([]);
    expect(second.filter((e) => e.method === 'HEAD' && e.url.includes('/blobs/')).length).toBe(4);
    expect(second.filter((e) => e.method === 'PUT' && e.url.includes('/manifests/')).length).toBe(1);
  });

  it('mounts blobs from another repository of the same registry instead of uploading them', async () => {
    const src = randomImage({ layers: 2, seed: 'mount', fileSize: 10_000 });
    await writeImage(src, `docker://${proxy.host}/lw/mount-src:1`, insecure);
    const from = await openImage(`docker://${proxy.host}/lw/mount-src:1`, insecure);
    const mark = proxy.log.length;
    try {
      await writeImage(from, `docker://${proxy.host}/other/mount-dst:1`, insecure);
    } finally {
      await from.close();
    }
    const mine = proxy.log.slice(mark);
    const mounts = mine.filter((e) => e.method === 'POST' && e.url.includes('mount=') && e.url.includes('from=lw%2Fmount-src'));
    expect(mounts.length).toBe(2);
    expect(mounts.every((e) => e.status === 201)).toBe(true);
    // Only the config is uploaded: it was read from the source image, not mounted.
    expect(uploadedBytes(mine)).toBe(src.configBytes.length);
    const back = await openImage(`docker://${proxy.host}/other/mount-dst:1`, insecure);
    expect(identity(back)).toEqual(identity(src));
    expect((await validateImage(back)).ok).toBe(true);
    await back.close();
  });

  it('uploads a blob listed twice only once', async () => {
    const { tarFromEntries } = await import('../../src/tar/writer.js');
    const same = MemoryLayer.fromTar(tarFromEntries([{ path: 'same.txt', type: 'file', mode: 0o644, data: Buffer.from('same') }]));
    const other = MemoryLayer.fromTar(tarFromEntries([{ path: 'other.txt', type: 'file', mode: 0o644, data: Buffer.from('other') }]));
    const img = assembleImage({ layers: [same, other, same], config: defaultConfig([{ created_by: 'a' }, { created_by: 'b' }, { created_by: 'c' }]) });
    const mark = proxy.log.length;
    await writeImage(img, `docker://${proxy.host}/lw/twice:1`, insecure);
    const puts = proxy.log.slice(mark).filter((e) => isBlobUpload(e) && e.requestBytes > 0);
    expect(puts.map((e) => e.requestBytes).sort((a, b) => a - b)).toEqual([img.configBytes.length, same.descriptor.size, other.descriptor.size].sort((a, b) => a - b));
    const back = await openImage(`docker://${reg.host}/lw/twice:1`, insecure);
    expect(identity(back)).toEqual(identity(img));
    expect((await validateImage(back)).ok).toBe(true);
    await back.close();
  });

  it('uploads layers in parallel up to --parallel', async () => {
    const src = randomImage({ layers: 6, seed: 'par', fileSize: 60_000, filesPerLayer: 2, compression: 'none' });
    let inFlight = 0;
    let peak = 0;
    const client = await RegistryClient.create(reg.host, { insecure: true });
    try {
      const { pushImage } = await import('../../src/transports/registry/push.js');
      const wrapped: Image = {
        ...src,
        layers: src.layers.map((l) => ({
          descriptor: l.descriptor,
          diffId: l.diffId,
          compression: l.compression,
          uncompressedSize: l.uncompressedSize,
          uncompressed: () => l.uncompressed(),
          compressed: async () => {
            inFlight++;
            peak = Math.max(peak, inFlight);
            await new Promise((r) => setTimeout(r, 150));
            const s = await l.compressed();
            s.on('close', () => inFlight--);
            return s;
          },
        })),
      };
      await pushImage(client, wrapped, { repository: 'lw/par', tag: '1', raw: 'par' }, { parallel: 2 });
      expect(peak).toBe(2);
      peak = 0;
      await pushImage(client, wrapped, { repository: 'lw/par2', tag: '1', raw: 'par2' }, { parallel: 4 });
      expect(peak).toBe(4);
    } finally {
      client.close();
    }
  });

  it('chooses the platform from an index, verifying the child manifest digest', async () => {
    const client = await RegistryClient.create(reg.host, { insecure: true });
    try {
      const amd = randomImage({ layers: 1, seed: 'amd64' });
      const arm = assembleImage({ layers: randomImage({ layers: 1, seed: 'arm64' }).layers, config: { ...defaultConfig([{ created_by: 'x' }]), architecture: 'arm64', variant: 'v8' } });
      for (const img of [amd, arm]) await writeImage(img, `docker://${reg.host}/lw/multi@${img.digest}`, insecure);
      const index: ImageIndex = {
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: [
          { mediaType: MediaType.OciManifest, digest: amd.digest, size: amd.manifestBytes.length, platform: { os: 'linux', architecture: 'amd64' } },
          { mediaType: MediaType.OciManifest, digest: arm.digest, size: arm.manifestBytes.length, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        ],
      };
      await client.putManifest('lw/multi', 'latest', manifestToBytes(index), MediaType.OciIndex);
      const a = await openImage(`docker://${reg.host}/lw/multi:latest`, { ...insecure, platform: { os: 'linux', architecture: 'arm64' } });
      expect(a.id).toBe(arm.id);
      await a.close();
      const b = await openImage(`docker://${reg.host}/lw/multi`, { ...insecure, platform: { os: 'linux', architecture: 'amd64' } });
      expect(b.id).toBe(amd.id);
      await b.close();
      await expect(openImage(`docker://${reg.host}/lw/multi`, { ...insecure, platform: { os: 'linux', architecture: 's390x' } })).rejects.toMatchObject({ code: 'PLATFORM_NOT_FOUND' });
    } finally {
      client.close();
    }
  });

  it('pushes an arbitrary artifact and fetches its blobs by digest through the public client API', async () => {
    const client = await RegistryClient.create(reg.host, { insecure: true });
    try {
      const payload = seededBytes('artifact', 50_000);
      const { sha256 } = await import('../../src/model/digest.js');
      const { Readable } = await import('node:stream');
      const put = await client.putBlob('lw/artifact', { digest: sha256(payload), size: payload.length, open: async () => Readable.from([payload]) });
      expect(put.how).toBe('uploaded');
      const empty = Buffer.from('{}');
      await client.putBlob('lw/artifact', { digest: sha256(empty), size: 2, open: async () => Readable.from([empty]) });
      const manifest = {
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        artifactType: 'application/vnd.layerwise.test.v1',
        config: { mediaType: MediaType.OciEmpty, digest: sha256(empty), size: 2 },
        layers: [{ mediaType: 'application/vnd.layerwise.test.payload', digest: sha256(payload), size: payload.length }],
      };
      const bytes = Buffer.from(JSON.stringify(manifest));
      const digest = await client.putManifest('lw/artifact', 'p1', bytes, MediaType.OciManifest);
      const got = await client.getManifest('lw/artifact', 'p1');
      expect(got.digest).toBe(digest);
      expect(got.bytes.equals(bytes)).toBe(true);
      const chunks: Buffer[] = [];
      for await (const c of await client.getBlob('lw/artifact', { digest: sha256(payload), size: payload.length })) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).equals(payload)).toBe(true);
      expect((await client.getBlobBytes('lw/artifact', { digest: sha256(empty), size: 2 })).toString()).toBe('{}');
      expect(await client.listTags('lw/artifact')).toEqual(['p1']);
    } finally {
      client.close();
    }
  });

  it('recompresses on push when asked, keeping image ID and diffIDs', async () => {
    const src = randomImage({ layers: 2, seed: 'recompress-push', compression: 'gzip', family: 'docker' });
    const res = await writeImage(src, `docker://${reg.host}/lw/zstd:1`, { ...insecure, compression: 'zstd' });
    expect(res.imageId).toBe(src.id);
    expect(res.changed.filter((c) => c.what.startsWith('layer'))).toHaveLength(2);
    const img = await openImage(`docker://${reg.host}/lw/zstd:1`, insecure);
    expect(img.digest).toBe(res.manifestDigest);
    expect(img.layers.map((l) => l.diffId)).toEqual(src.layers.map((l) => l.diffId));
    expect(img.layers.map((l) => l.descriptor.mediaType)).toEqual([MediaType.DockerLayerZstd, MediaType.DockerLayerZstd]);
    expect((await validateImage(img)).ok).toBe(true);
    await img.close();
  });

  it('CLI: copy oci: -> docker:// -> oci-archive: keeps image ID and diffIDs, and validate docker:// passes', async () => {
    const src = imageFromEntries([[{ path: 'etc/', type: 'dir', mode: 0o755 }, { path: 'etc/hello', type: 'file', mode: 0o644, data: Buffer.from('hello registry\n') }], [{ path: 'data.bin', type: 'file', mode: 0o644, data: seededBytes('rt', 70_000) }]]);
    const oci = path.join(work, 'rt-oci');
    await writeImage(src, `oci:${oci}:v1`);
    const ref = `docker://${reg.host}/lw/roundtrip:v1`;
    const push = await layerwise(['copy', '--insecure', '--json', `oci:${oci}:v1`, ref]);
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    expect(JSON.parse(push.stdout).manifestDigest).toBe(src.digest);
    const archive = path.join(work, 'rt.tar');
    const pull = await layerwise(['copy', '--insecure', '-q', ref, `oci-archive:${archive}:v1`]);
    expect(pull.code, pull.stderr).toBe(0);
    const back = await openImage(`oci-archive:${archive}:v1`);
    expect(identity(back)).toEqual(identity(src));
    await back.close();
    const v = await layerwise(['validate', '--insecure', '-q', ref]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain('valid');
    const inspect = await layerwise(['inspect', '--insecure', '--json', ref]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout).imageId).toBe(src.id);
  });
});
