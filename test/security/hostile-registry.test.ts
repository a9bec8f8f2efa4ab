/**
 * A hostile registry: the real docker-registry behind a proxy that rewrites its answers. Lying
 * Content-Types do not confuse layerwise (the JSON decides); swapped, oversized, ambiguous or
 * path-like answers are refused with stable codes and nothing is written at the destination.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isLayerwiseError } from '../../src/errors.js';
import { copyImage } from '../../src/image/copy.js';
import { validateImage } from '../../src/image/validate.js';
import { sha256 } from '../../src/model/digest.js';
import type { Image } from '../../src/model/image.js';
import { randomImage } from '../../src/testing/images.js';
import { openImage, writeImage } from '../../src/transports/index.js';
import { RegistryClient } from '../../src/transports/registry/client.js';
import { startFaultProxy, type FaultProxy, type ProxyEntry } from '../support/fault-proxy.js';
import { haveRegistry, startRegistry, type TestRegistry } from '../support/registry.js';
import { layerwise } from '../support/run.js';
import { Sandbox } from './sandbox.js';

const enabled = haveRegistry();
const sbx = new Sandbox('registry');
let reg: TestRegistry;
let proxy: FaultProxy;
let app: Image;
let other: Image;
let indexDigest: string;
const registry = { insecure: true, retryDelayMs: 5, retries: 1 };
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const isManifestGet = (e: ProxyEntry) => e.method === 'GET' && e.url.includes('/manifests/');
const isBlobGet = (e: ProxyEntry, digest: string) => e.method === 'GET' && e.url.endsWith(`/blobs/${digest}`);

beforeAll(async () => {
  if (!enabled) return;
  reg = await startRegistry({ label: 'hostile' });
  proxy = await startFaultProxy(reg);
  app = randomImage({ layers: 2, fileSize: 4000, seed: 'hostile-app' });
  other = randomImage({ layers: 1, fileSize: 4000, seed: 'hostile-other' });
  await writeImage(app, `docker://${reg.host}/lw/app:1`, { registry });
  await writeImage(other, `docker://${reg.host}/lw/app:other`, { registry });
  // An index over the app image, for Content-Type lies in the other direction.
  const client = await RegistryClient.create(reg.host, { insecure: true });
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: app.digest, size: app.manifestBytes.length, platform: { os: 'linux', architecture: 'amd64' } }] }));
  indexDigest = await client.putManifest('lw/app', 'index', index, OCI_INDEX);
  client.close();
  sbx.snapshot();
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await reg?.stop();
  sbx.remove();
});

beforeEach(() => {
  if (proxy) proxy.rules = {};
  sbx.clearOut();
});

async function copyFails(ref: string, code: string): Promise<void> {
  let caught: unknown;
  try {
    await copyImage(`docker://${proxy.host}/${ref}`, `oci:${sbx.out}/copy:t`, { open: { registry } });
  } catch (err) {
    caught = err;
  }
  expect(isLayerwiseError(caught), String(caught)).toBe(true);
  expect((caught as { code: string }).code, (caught as Error).message).toBe(code);
  expect(readdirSync(sbx.out)).toEqual([]);
  expect(sbx.changes()).toEqual([]);
}

async function copies(ref: string): Promise<Image> {
  await copyImage(`docker://${proxy.host}/${ref}`, `oci:${sbx.out}/copy:t`, { open: { registry } });
  const img = await openImage(`oci:${sbx.out}/copy:t`);
  expect((await validateImage(img)).ok).toBe(true);
  await img.close();
  return img;
}

describe.skipIf(!enabled)('hostile registry answers', () => {
  it('a lying Content-Type does not change what a manifest is: the JSON decides', async () => {
    for (const lie of [OCI_INDEX, 'application/vnd.docker.distribution.manifest.list.v2+json', 'application/octet-stream', 'text/html']) {
      proxy.rules.replace = (e) => (isManifestGet(e) ? { headers: { 'content-type': lie } } : undefined);
      const img = await copies('lw/app:1');
      expect(img.digest).toBe(app.digest);
      expect(img.id).toBe(app.id);
      sbx.clearOut();
    }
  });

  it('an index served as a manifest is still followed as an index', async () => {
    proxy.rules.replace = (e) => (isManifestGet(e) ? { headers: { 'content-type': OCI_MANIFEST } } : undefined);
    const img = await copies('lw/app:index');
    expect(img.id).toBe(app.id);
    expect(indexDigest).toMatch(/^sha256:/);
  });

  it('a document that is both an index and a manifest is refused, whatever the Content-Type says', async () => {
    const both = Buffer.from(JSON.stringify({ ...JSON.parse(app.manifestBytes.toString()), mediaType: undefined, manifests: [{ mediaType: OCI_MANIFEST, digest: other.digest, size: other.manifestBytes.length }] }));
    proxy.rules.replace = (e) => (isManifestGet(e) ? { body: both, headers: { 'content-type': OCI_MANIFEST, 'docker-content-digest': null } } : undefined);
    await copyFails('lw/app:1', 'MANIFEST_INVALID');
    proxy.rules.replace = (e) => (isManifestGet(e) ? { body: both, headers: { 'content-type': OCI_INDEX, 'docker-content-digest': null } } : undefined);
    await copyFails('lw/app:1', 'INDEX_INVALID');
  });

  it('a manifest swapped for another image is refused (by tag: the digest header; by digest: the digest asked for)', async () => {
    proxy.rules.replace = (e) => (isManifestGet(e) ? { body: other.manifestBytes } : undefined);
    await copyFails('lw/app:1', 'DIGEST_MISMATCH');
    proxy.rules.replace = (e) => (isManifestGet(e) ? { body: other.manifestBytes, headers: { 'docker-content-digest': null } } : undefined);
    await copyFails(`lw/app@${app.digest}`, 'DIGEST_MISMATCH');
  });

  it('an oversized manifest is refused without reading it all, with or without Content-Length', async () => {
    const huge = Buffer.concat([Buffer.from('{"schemaVersion":2,"pad":"'), Buffer.alloc(9 * 1024 * 1024, 0x61), Buffer.from('"}')]);
    proxy.rules.replace = (e) => (isManifestGet(e) ? { body: huge, headers: { 'docker-content-digest': null } } : undefined);
    await copyFails('lw/app:1', 'JSON_TOO_LARGE');
    proxy.rules.replace = (e) => (isManifestGet(e) ? { body: huge, chunked: true, headers: { 'docker-content-digest': null } } : undefined);
    await copyFails('lw/app:1', 'JSON_TOO_LARGE');
  });

  it('a digest that is a path is refused before it is used anywhere', async () => {
    const m = JSON.parse(app.manifestBytes.toString());
    m.layers[0].digest = 'sha256:../../../../etc/passwd';
    const bad = Buffer.from(JSON.stringify(m));
    proxy.rules.replace = (e) => (isManifestGet(e) ? { body: bad, headers: { 'docker-content-digest': null } } : undefined);
    await copyFails('lw/app:1', 'DIGEST_INVALID');
    m.layers[0].digest = app.layers[0]!.descriptor.digest;
    m.config.digest = 'sha512:' + 'a'.repeat(128);
    proxy.rules.replace = (e) => (isManifestGet(e) ? { body: Buffer.from(JSON.stringify(m)), headers: { 'docker-content-digest': null } } : undefined);
    await copyFails('lw/app:1', 'DIGEST_INVALID');
  });

  it('a config or layer blob that is not what its digest says is refused (flipped, extended, swapped)', async () => {
    proxy.rules.replace = (e, real) => (isBlobGet(e, app.id) ? { body: Buffer.concat([real.body.subarray(0, 10), Buffer.from([real.body[10]! ^ 1]), real.body.subarray(11)]) } : undefined);
    await copyFails('lw/app:1', 'DIGEST_MISMATCH');
    const layer = app.layers[1]!.descriptor.digest;
    proxy.rules.replace = (e, real) => (isBlobGet(e, layer) ? { body: Buffer.concat([real.body, Buffer.from('trailing')]) } : undefined);
    await copyFails('lw/app:1', 'SIZE_MISMATCH');
    proxy.rules.replace = (e) => (isBlobGet(e, layer) ? { body: Buffer.alloc(app.layers[1]!.descriptor.size, 0) } : undefined);
    await copyFails('lw/app:1', 'DIGEST_MISMATCH');
  });

  it('a config descriptor claiming gigabytes is refused before it is fetched', async () => {
    const m = JSON.parse(app.manifestBytes.toString());
    m.config.size = 4 * 1024 * 1024 * 1024;
    const bad = Buffer.from(JSON.stringify(m));
    proxy.rules.replace = (e) => (isManifestGet(e) ? { body: bad, headers: { 'docker-content-digest': sha256(bad) } } : undefined);
    const mark = proxy.log.length;
    await copyFails('lw/app:1', 'JSON_TOO_LARGE');
    expect(proxy.log.slice(mark).filter((e) => isBlobGet(e, app.id))).toEqual([]);
  });

  it('the CLI reports a hostile answer in one line with its code', async () => {
    proxy.rules.replace = (e) => (isManifestGet(e) ? { body: other.manifestBytes } : undefined);
    const r = await layerwise(['copy', '-q', '--insecure', `docker://${proxy.host}/lw/app:1`, `oci:${path.join(sbx.out, 'cli')}:t`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^layerwise: [^\n]*\[DIGEST_MISMATCH\]\n$/);
    expect(readdirSync(sbx.out)).toEqual([]);
  });
});
