import { mkdtempSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageFromEntries, seededBytes } from '../../src/testing/images.js';
import { openImage, writeImage } from '../../src/transports/index.js';
import type { MemoryEntry } from '../../src/tar/writer.js';
import { startFaultProxy, isBlobGet, uploadedBytes, type FaultProxy } from '../support/fault-proxy.js';
import { haveRegistry, startRegistry, type TestRegistry } from '../support/registry.js';
import { haveTool } from '../support/tools.js';
import { layerwise, run } from '../support/run.js';

const enabled = haveRegistry();
const skopeo = haveTool('skopeo', 'skopeo');
const work = mkdtempSync('/tmp/lw-patchreg-');
let reg: TestRegistry;
let proxy: FaultProxy;

const text = (seed: string, n: number) => Buffer.from(seededBytes(seed, n).toString('base64'));
const base: MemoryEntry[] = [{ path: 'usr/', type: 'dir' }, { path: 'usr/lib.so', type: 'file', data: seededBytes('lib', 400_000) }];
const app1: MemoryEntry[] = [{ path: 'app/', type: 'dir' }, { path: 'app/main.js', type: 'file', data: text('main', 200_000) }];
const app2: MemoryEntry[] = [{ path: 'app/', type: 'dir', mtime: 5 }, { path: 'app/main.js', type: 'file', data: Buffer.concat([text('main', 200_000).subarray(0, 90_000), Buffer.from('/* 1.0.1 */'), text('main', 200_000).subarray(90_000)]) }];

beforeAll(async () => {
  if (!enabled) return;
  reg = await startRegistry({ label: 'patchreg' });
  proxy = await startFaultProxy(reg);
});
afterAll(async () => {
  await proxy?.close();
  await reg?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!enabled)('patches as OCI artifacts in a registry', () => {
  it('pushes a patch, and applies it registry to registry moving only what the rebuild needs', async () => {
    const host = proxy.host;
    const v1 = `docker://${host}/acme/app:1.0.0`;
    const v2src = `oci:${work}/v2:1.0.1`;
    await writeImage(imageFromEntries([base, app1], { compression: 'gzip' }), v1, { registry: { insecure: true } });
    await writeImage(imageFromEntries([base, app2], { compression: 'gzip' }), v2src);
    const patchFile = path.join(work, 'update.lwp');
    let r = await layerwise(['patch', 'create', '-q', '--insecure', '--from', v1, '--to', v2src, '-o', patchFile]);
    expect(r.code, r.stderr).toBe(0);

    const artifact = `docker://${host}/acme/app-patches:1.0.1`;
    r = await layerwise(['patch', 'push', '--insecure', '--json', patchFile, artifact]);
    expect(r.code, r.stderr).toBe(0);
    if (skopeo) {
      const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/acme/app-patches:1.0.1`]);
      const m = JSON.parse(raw.stdout) as { artifactType: string; layers: { size: number; mediaType: string }[] };
      expect(m.artifactType).toBe('application/vnd.layerwise.patch.v1');
      expect(m.layers[0]!.size).toBe(statSync(patchFile).size);
    }
    r = await layerwise(['patch', 'inspect', '--insecure', '--json', artifact]);
    expect(r.code, r.stderr).toBe(0);

    proxy.log.length = 0;
    r = await layerwise(['patch', 'apply', '-q', '--insecure', artifact, '--from', v1, '--to', `docker://${host}/acme/app:1.0.1`]);
    expect(r.code, r.stderr).toBe(0);
    const want = await openImage(v2src);
    const got = await openImage(`docker://${host}/acme/app:1.0.1`, { registry: { insecure: true } });
    expect(got.id).toBe(want.id);
    // zlib-made gzip layers come back byte for byte: the manifest digest is the vendor's.
    expect(got.digest).toBe(want.digest);
    const baseLayer = want.layers[0]!.descriptor;
    const appLayer = want.layers[1]!.descriptor;
    // The base layer the site has is neither downloaded nor uploaded: the registry already holds it.
    const gets = proxy.log.filter(isBlobGet).map((e) => e.url.split('/').pop());
    expect(gets).not.toContain(baseLayer.digest);
    const uploaded = uploadedBytes(proxy.log);
    expect(uploaded).toBeLessThan(appLayer.size + 10_000);
    expect(uploaded).toBeGreaterThan(0);
    await got.close();
    await want.close();
  });

  it('refuses an artifact that is not a layerwise patch', async () => {
    const ref = `docker://${reg.host}/acme/other:1`;
    await writeImage(imageFromEntries([base]), ref, { registry: { insecure: true } });
    const r = await layerwise(['patch', 'inspect', '--insecure', ref]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[PATCH_INVALID]');
  });
});
