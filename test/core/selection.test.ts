import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openImage, writeImage } from '../../src/transports/index.js';
import { writeDockerArchive } from '../../src/transports/docker-archive/write.js';
import { randomImage } from '../../src/testing/images.js';
import { isLayerwiseError } from '../../src/errors.js';
import { sha256, digestHex } from '../../src/model/digest.js';
import { MediaType } from '../../src/model/media-types.js';

const dir = mkdtempSync('/tmp/lw-select-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'none';
  } catch (err) {
    return isLayerwiseError(err) ? err.code : 'other';
  }
}

describe('choosing one image', () => {
  it('from a multi-image docker-archive by name, by @N, and refusing to guess', async () => {
    const a = randomImage({ layers: 1, seed: 'multi-a' });
    const b = randomImage({ layers: 2, seed: 'multi-b' });
    const file = path.join(dir, 'multi.tar');
    await writeDockerArchive([{ image: a, tags: ['acme/a:1'] }, { image: b, tags: ['registry.local:5000/acme/b:2', 'acme/b:latest'] }], file);
    const byName = await openImage(`docker-archive:${file}:acme/b:latest`);
    expect(byName.id).toBe(b.id);
    await byName.close();
    const full = await openImage(`docker-archive:${file}:registry.local:5000/acme/b:2`);
    expect(full.id).toBe(b.id);
    await full.close();
    const docker = await openImage(`docker-archive:${file}:docker.io/acme/a:1`);
    expect(docker.id).toBe(a.id);
    await docker.close();
    const first = await openImage(`docker-archive:${file}:@0`);
    expect(first.id).toBe(a.id);
    await first.close();
    expect(await code(openImage(`docker-archive:${file}`))).toBe('IMAGE_AMBIGUOUS');
    expect(await code(openImage(`docker-archive:${file}:acme/c:1`))).toBe('IMAGE_NOT_FOUND');
    expect(await code(openImage(`docker-archive:${file}:@5`))).toBe('IMAGE_NOT_FOUND');
  });

  it('from an OCI image index by --platform', async () => {
    const amd = randomImage({ layers: 1, seed: 'amd64' });
    const arm = randomImage({ layers: 1, seed: 'arm64' });
    const layout = path.join(dir, 'multiarch');
    await writeImage(amd, `oci:${layout}:amd`);
    await writeImage(arm, `oci:${layout}:arm`);
    // Replace the two tags with one index listing both platforms, tagged "multi".
    const idx = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string; size: number; mediaType: string }[] };
    const [m1, m2] = idx.manifests;
    const imageIndex = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [
        { mediaType: m1!.mediaType, digest: m1!.digest, size: m1!.size, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: m2!.mediaType, digest: m2!.digest, size: m2!.size, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      ],
    }));
    const d = sha256(imageIndex);
    mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(path.join(layout, 'blobs', 'sha256', digestHex(d)), imageIndex);
    writeFileSync(path.join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaType.OciIndex, digest: d, size: imageIndex.length, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }] }));
    const x = await openImage(`oci:${layout}:multi`, { platform: { os: 'linux', architecture: 'amd64' } });
    expect(x.id).toBe(amd.id);
    await x.close();
    const y = await openImage(`oci:${layout}:multi`, { platform: { os: 'linux', architecture: 'arm64' } });
    expect(y.id).toBe(arm.id);
    await y.close();
    expect(await code(openImage(`oci:${layout}:multi`, { platform: { os: 'linux', architecture: 's390x' } }))).toBe('PLATFORM_NOT_FOUND');
  });
});
