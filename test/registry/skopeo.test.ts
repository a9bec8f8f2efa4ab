import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateImage } from '../../src/image/validate.js';
import type { Image } from '../../src/model/image.js';
import { sha256 } from '../../src/model/digest.js';
import { randomImage } from '../../src/testing/images.js';
import { openImage, writeImage } from '../../src/transports/index.js';
import { haveRegistry, startRegistry, type TestRegistry } from '../support/registry.js';
import { run } from '../support/run.js';
import { haveTool } from '../support/tools.js';

const enabled = haveRegistry() && haveTool('skopeo', 'skopeo');
const work = mkdtempSync('/tmp/lw-regsk-');
let reg: TestRegistry;
const insecure = { registry: { insecure: true } };

beforeAll(async () => {
  if (!enabled) return;
  reg = await startRegistry({ label: 'sk' });
});
afterAll(async () => {
  await reg?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function skopeo(args: string[]): Promise<string> {
  const r = await run('skopeo', ['--insecure-policy', ...args], { timeoutMs: 120_000, env: { REGISTRY_AUTH_FILE: path.join(work, 'auth.json') } });
  if (r.code !== 0) throw new Error(`skopeo ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The manifest digest an OCI layout's index.json names for a tag. */
function layoutDigest(dir: string, tag: string): string {
  const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  return index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag)!.digest;
}

const identity = (img: Image) => ({ id: img.id, diffIds: img.layers.map((l) => l.diffId), blobs: img.layers.map((l) => l.descriptor.digest) });

describe.skipIf(!enabled)('skopeo interop over docker:// (docker-registry, plain HTTP)', () => {
  it('skopeo reads what layerwise pushes: inspect digest, raw manifest and a copy to oci: with the same digests', async () => {
    const src = randomImage({ layers: 3, seed: 'sk-oci', fileSize: 8000, family: 'oci' });
    await writeImage(src, `docker://${reg.host}/lw/sk-oci:1`, insecure);
    const info = JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${reg.host}/lw/sk-oci:1`])) as { Digest: string; Layers: string[] };
    expect(info.Digest).toBe(src.digest);
    expect(info.Layers).toEqual(src.layers.map((l) => l.descriptor.digest));
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/lw/sk-oci:1`]);
    expect(sha256(raw)).toBe(src.digest);
    const dir = path.join(work, 'sk-copy');
    await skopeo(['copy', '--src-tls-verify=false', `docker://${reg.host}/lw/sk-oci:1`, `oci:${dir}:got`]);
    expect(layoutDigest(dir, 'got')).toBe(src.digest);
    const back = await openImage(`oci:${dir}:got`);
    expect(identity(back)).toEqual(identity(src));
    await back.close();
  });

  it('skopeo reads a Docker schema 2 image layerwise pushes, byte for byte', async () => {
    const src = randomImage({ layers: 2, seed: 'sk-docker', fileSize: 8000, family: 'docker' });
    await writeImage(src, `docker://${reg.host}/lw/sk-docker:1`, insecure);
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/lw/sk-docker:1`]);
    expect(Buffer.from(raw).equals(src.manifestBytes)).toBe(true);
    const config = await skopeo(['inspect', '--config', '--raw', '--tls-verify=false', `docker://${reg.host}/lw/sk-docker:1`]);
    expect(sha256(config)).toBe(src.id);
  });

  it('layerwise reads what skopeo pushes, digests equal, and it validates', async () => {
    const src = randomImage({ layers: 3, seed: 'sk-push', fileSize: 8000, family: 'oci' });
    const dir = path.join(work, 'sk-src');
    await writeImage(src, `oci:${dir}:v1`);
    await skopeo(['copy', '--dest-tls-verify=false', `oci:${dir}:v1`, `docker://${reg.host}/lw/from-skopeo:1`]);
    const info = JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${reg.host}/lw/from-skopeo:1`])) as { Digest: string };
    const img = await openImage(`docker://${reg.host}/lw/from-skopeo:1`, insecure);
    try {
      expect(img.digest).toBe(info.Digest);
      expect(img.digest).toBe(src.digest);
      expect(identity(img)).toEqual(identity(src));
      expect((await validateImage(img)).problems).toEqual([]);
    } finally {
      await img.close();
    }
    // A conversion by skopeo (to Docker schema 2) gives a new manifest digest; layerwise agrees with skopeo on it.
    await skopeo(['copy', '--dest-tls-verify=false', '--format', 'v2s2', `oci:${dir}:v1`, `docker://${reg.host}/lw/from-skopeo:v2s2`]);
    const v2 = JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${reg.host}/lw/from-skopeo:v2s2`])) as { Digest: string };
    const img2 = await openImage(`docker://${reg.host}/lw/from-skopeo:v2s2`, insecure);
    try {
      expect(img2.digest).toBe(v2.Digest);
      expect(img2.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
      expect(img2.layers.map((l) => l.diffId)).toEqual(src.layers.map((l) => l.diffId));
      expect((await validateImage(img2)).problems).toEqual([]);
    } finally {
      await img2.close();
    }
  });
});
