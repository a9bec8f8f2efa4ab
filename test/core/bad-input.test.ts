import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeImage } from '../../src/transports/index.js';
import { randomImage } from '../../src/testing/images.js';
import { tarFromEntries } from '../../src/tar/writer.js';
import { sha256 } from '../../src/model/digest.js';
import { layerwise } from '../support/run.js';

const dir = mkdtempSync('/tmp/lw-bad-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `layerwise copy SRC DST` and checks the failure contract: one line, the code, nothing at DST. */
async function expectCopyFails(src: string, code: string, mention: string) {
  const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
  for (const dst of [`oci:${out}-oci:t`, `docker-archive:${out}.tar:x/y:1`, `oci-archive:${out}-o.tar:t`]) {
    const r = await layerwise(['copy', '-q', src, dst]);
    expect(r.code, r.stderr).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(`[${code}]`);
    expect(lines[0]).toContain(mention);
    const target = dst.split(':')[1]!;
    expect(existsSync(target), `${target} must not exist`).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes('lw-tmp')), 'no temporary leftovers').toEqual([]);
  }
}

describe('bad input: one-line error naming the file and the problem, no output left behind', () => {
  let layout: string;
  let archive: string;
  beforeAll(async () => {
    const img = randomImage({ layers: 2, fileSize: 20000, seed: 'bad', compression: 'gzip' });
    layout = path.join(dir, 'good-oci');
    await writeImage(img, `oci:${layout}:t`);
    archive = path.join(dir, 'good.tar');
    await writeImage(img, `docker-archive:${archive}:x/good:1`);
  });

  it('truncated docker-archive', async () => {
    const t = path.join(dir, 'truncated.tar');
    writeFileSync(t, readFileSync(archive));
    truncateSync(t, Math.floor(statSync(t).size / 2));
    await expectCopyFails(`docker-archive:${t}`, 'TAR_TRUNCATED', t);
  });

  it('a layer blob whose bytes do not match its digest', async () => {
    const l = path.join(dir, 'corrupt-oci');
    await writeImage(randomImage({ layers: 2, fileSize: 20000, seed: 'bad', compression: 'gzip' }), `oci:${l}:t`);
    const manifest = JSON.parse(readFileSync(path.join(l, 'blobs/sha256', JSON.parse(readFileSync(path.join(l, 'index.json'), 'utf8')).manifests[0].digest.slice(7)), 'utf8'));
    const blob = path.join(l, 'blobs/sha256', manifest.layers[1].digest.slice(7));
    const bytes = readFileSync(blob);
    bytes[bytes.length - 20] ^= 0x01;
    writeFileSync(blob, bytes);
    await expectCopyFails(`oci:${l}:t`, 'DIGEST_MISMATCH', manifest.layers[1].digest);
  });

  it('a missing blob', async () => {
    const l = path.join(dir, 'missing-oci');
    await writeImage(randomImage({ layers: 2, seed: 'bad2' }), `oci:${l}:t`);
    const manifest = JSON.parse(readFileSync(path.join(l, 'blobs/sha256', JSON.parse(readFileSync(path.join(l, 'index.json'), 'utf8')).manifests[0].digest.slice(7)), 'utf8'));
    unlinkSync(path.join(l, 'blobs/sha256', manifest.layers[0].digest.slice(7)));
    await expectCopyFails(`oci:${l}:t`, 'BLOB_MISSING', manifest.layers[0].digest);
  });

  it('malformed manifest JSON (docker-archive manifest.json and an OCI manifest blob)', async () => {
    const t = path.join(dir, 'badjson.tar');
    writeFileSync(t, tarFromEntries([{ path: 'manifest.json', type: 'file', data: Buffer.from('[{"Config": "x.json", "Layers": [') }]));
    await expectCopyFails(`docker-archive:${t}`, 'MANIFEST_INVALID', 'manifest.json');
    const l = path.join(dir, 'badjson-oci');
    await writeImage(randomImage({ layers: 1, seed: 'bad3' }), `oci:${l}:t`);
    const bad = Buffer.from('{"schemaVersion": 2, "layers": [ oops');
    const digest = sha256(bad);
    writeFileSync(path.join(l, 'blobs/sha256', digest.slice(7)), bad);
    writeFileSync(path.join(l, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: bad.length, annotations: { 'org.opencontainers.image.ref.name': 't' } }] }));
    await expectCopyFails(`oci:${l}:t`, 'MANIFEST_INVALID', digest);
  });

  it('unknown transport', async () => {
    const r = await layerwise(['copy', 'ftp:whatever', `oci:${dir}/never:t`]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('[TRANSPORT_UNKNOWN]');
    expect(r.stderr).toContain('ftp:whatever');
    expect(existsSync(`${dir}/never`)).toBe(false);
  });

  it('leaves an existing OCI layout untouched when the copy into it fails', async () => {
    const target = path.join(dir, 'existing-oci');
    await writeImage(randomImage({ layers: 1, seed: 'existing' }), `oci:${target}:keep`);
    const before = readdirSync(path.join(target, 'blobs/sha256')).sort();
    const index = readFileSync(path.join(target, 'index.json'));
    const l = path.join(dir, 'corrupt2-oci');
    await writeImage(randomImage({ layers: 2, fileSize: 20000, seed: 'c2' }), `oci:${l}:t`);
    const m = JSON.parse(readFileSync(path.join(l, 'blobs/sha256', JSON.parse(readFileSync(path.join(l, 'index.json'), 'utf8')).manifests[0].digest.slice(7)), 'utf8'));
    const blob = path.join(l, 'blobs/sha256', m.layers[1].digest.slice(7));
    const bytes = readFileSync(blob);
    bytes[100] ^= 0xff;
    writeFileSync(blob, bytes);
    const r = await layerwise(['copy', '-q', `oci:${l}:t`, `oci:${target}:new`]);
    expect(r.code).toBe(1);
    expect(readFileSync(path.join(target, 'index.json')).equals(index)).toBe(true);
    expect(readdirSync(path.join(target, 'blobs/sha256')).sort()).toEqual(before);
  });
});
