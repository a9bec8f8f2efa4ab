/**
 * Hostile image containers: docker-archive and oci-archive files whose member names, duplicates or
 * JSON try to reach outside, and OCI layouts whose index and manifests lie. Every command that opens an
 * image refuses them with a stable code (one line on stderr for the CLI) and writes nothing anywhere.
 */
import { mkdirSync, readFileSync, writeFileSync, cpSync, symlinkSync, rmSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLayerwiseError } from '../../src/errors.js';
import { sha256 } from '../../src/model/digest.js';
import { applyPatch } from '../../src/patch/apply.js';
import { createPatch } from '../../src/patch/create.js';
import { readTarEntriesInMemory } from '../../src/tar/reader.js';
import { tarFromEntries, type MemoryEntry } from '../../src/tar/writer.js';
import { randomImage } from '../../src/testing/images.js';
import { openImage, writeImage } from '../../src/transports/index.js';
import { layerwise } from '../support/run.js';
import { Sandbox } from './sandbox.js';
import { END, rawFile, rawHeader } from './tarcraft.js';

const sbx = new Sandbox('archives');
const savedTmp = process.env.LAYERWISE_TMPDIR;
let members: MemoryEntry[] = [];
let patchFile: string;

interface Case {
  id: string;
  title: string;
  /** The reference to open (made in beforeAll). */
  ref: string;
  code: string;
  make: () => void;
}
const cases: Case[] = [];

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

function archive(id: string, title: string, code: string, tar: () => Buffer): void {
  const file = path.join(sbx.inputs, `${id}.tar`);
  cases.push({ id, title, ref: `docker-archive:${file}`, code, make: () => writeFileSync(file, tar()) });
}

function withMembers(mutate: (m: MemoryEntry[]) => MemoryEntry[]): Buffer {
  return tarFromEntries(mutate(members.map((m) => ({ ...m }))));
}

function manifestJson(m: MemoryEntry[]): { Config: string; RepoTags: string[]; Layers: string[] }[] {
  return JSON.parse(Buffer.from(m.find((x) => x.path === 'manifest.json')!.data!).toString());
}

function setManifestJson(m: MemoryEntry[], v: unknown): MemoryEntry[] {
  return m.map((x) => (x.path === 'manifest.json' ? { ...x, data: Buffer.from(JSON.stringify(v)) } : x));
}

/** A copy of the good layout, changed by `mutate(dir)`. */
function layout(id: string, title: string, code: string, mutate: (dir: string) => void, tag = 't'): void {
  const dir = path.join(sbx.inputs, id);
  cases.push({
    id,
    title,
    ref: `oci:${dir}:${tag}`,
    code,
    make: () => {
      cpSync(path.join(sbx.inputs, 'good-oci'), dir, { recursive: true });
      mutate(dir);
    },
  });
}

function putBlob(dir: string, bytes: Buffer): string {
  const d = sha256(bytes);
  writeFileSync(path.join(dir, 'blobs/sha256', d.slice(7)), bytes);
  return d;
}

function setIndex(dir: string, manifests: unknown[]): void {
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
}

function goodManifest(dir: string): { digest: string; json: Record<string, unknown> } {
  const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8'));
  const digest = index.manifests[0].digest as string;
  return { digest, json: JSON.parse(readFileSync(path.join(dir, 'blobs/sha256', digest.slice(7)), 'utf8')) };
}

const abs = `${sbx.root}/escaped-absolute`;
const extra = (name: string): MemoryEntry => ({ path: name, type: 'file', data: Buffer.from('x') });

archive('member-dotdot', 'member named ../', 'TAR_PATH_UNSAFE', () => withMembers((m) => [...m, extra('../../escaped-dotdot')]));
archive('member-absolute', 'absolute member name', 'TAR_PATH_UNSAFE', () => withMembers((m) => [...m, extra(abs)]));
archive('member-backslash', 'member named ..\\', 'TAR_PATH_UNSAFE', () => withMembers((m) => [...m, extra('..\\..\\escaped-backslash')]));
archive('member-drive', 'member named C:..\\x', 'TAR_PATH_UNSAFE', () => withMembers((m) => [...m, extra('C:..\\escaped-drive')]));
archive('member-dot-component', 'member named blobs/./x', 'TAR_PATH_UNSAFE', () => withMembers((m) => [...m, extra('blobs/./x')]));
archive('member-dup', 'duplicate ./manifest.json and manifest.json', 'TAR_DUPLICATE_ENTRY', () => withMembers((m) => [...m, { ...m.find((x) => x.path === 'manifest.json')!, path: './manifest.json' }]));
archive('member-case', 'Manifest.json beside manifest.json', 'TAR_DUPLICATE_ENTRY', () => withMembers((m) => [...m, { ...m.find((x) => x.path === 'manifest.json')!, path: 'Manifest.json', data: Buffer.from('[]') }]));
archive('member-nfc', 'two members equal under Unicode normalisation', 'TAR_DUPLICATE_ENTRY', () => withMembers((m) => [...m, extra('caf\u00e9'), extra('cafe\u0301')]));
archive('member-nul', 'NUL in a PAX member name', 'TAR_PATH_UNSAFE', () => withMembers((m) => [...m, extra('manifest.json\0../../escaped')]));
archive('manifest-symlink', 'manifest.json is a symlink to /etc/passwd', 'MANIFEST_INVALID', () => withMembers((m) => [...m.filter((x) => x.path !== 'manifest.json'), { path: 'manifest.json', type: 'symlink', linkpath: '/etc/passwd' }]));
archive('config-dotdot', 'manifest.json names ../../etc/passwd as the config', 'TAR_PATH_UNSAFE', () => withMembers((m) => setManifestJson(m, manifestJson(m).map((e) => ({ ...e, Config: '../../../../etc/passwd' })))));
archive('layer-absolute', 'manifest.json names /etc/shadow as a layer', 'TAR_PATH_UNSAFE', () => withMembers((m) => setManifestJson(m, manifestJson(m).map((e) => ({ ...e, Layers: ['/etc/shadow', ...e.Layers.slice(1)] })))));
archive('layer-hardlink', 'a layer member that is a hardlink to /etc/shadow', 'BLOB_MISSING', () => withMembers((m) => {
  const name = manifestJson(m)[0]!.Layers[0]!;
  return m.map((x) => (x.path === name ? { path: name, type: 'hardlink', linkpath: '/etc/shadow' } : x));
}));
archive('manifest-huge', 'manifest.json of 9 MiB', 'JSON_TOO_LARGE', () => withMembers((m) => setManifestJson(m, [...manifestJson(m), { Config: 'x', RepoTags: ['y'.repeat(9 * 1024 * 1024)], Layers: [] }])));
const goodTar = () => readFileSync(path.join(sbx.inputs, 'good.tar'));
archive('bad-checksum', 'a header with a bad checksum', 'TAR_BAD_CHECKSUM', () => {
  const bad = goodTar();
  bad[100] ^= 0x01; // the mode field of the first header
  return bad;
});
archive('truncated', 'archive cut in the middle', 'TAR_TRUNCATED', () => goodTar().subarray(0, Math.floor(goodTar().length / 2 / 512) * 512 + 100));
archive('trailing', 'a member hidden after the end-of-archive marker', 'TAR_TRAILING_DATA', () => Buffer.concat([goodTar(), rawFile('manifest.json', Buffer.from('[]')), END]));
archive('negative-size', 'negative base-256 size', 'TAR_INVALID_HEADER', () => Buffer.concat([rawHeader({ name: 'x', size: Buffer.alloc(12, 0xff) }), END]));

layout('index-digest-path', 'index.json digest "sha256:../../etc/passwd"', 'DIGEST_INVALID', (dir) => setIndex(dir, [{ mediaType: OCI_MANIFEST, digest: 'sha256:../../../../etc/passwd', size: 10, annotations: { 'org.opencontainers.image.ref.name': 't' } }]));
layout('layer-digest-path', 'a manifest layer digest that is a path', 'DIGEST_INVALID', (dir) => {
  const { json } = goodManifest(dir);
  (json.layers as { digest: string }[])[0]!.digest = 'sha256:/etc/shadow';
  const bytes = Buffer.from(JSON.stringify(json));
  setIndex(dir, [{ mediaType: OCI_MANIFEST, digest: putBlob(dir, bytes), size: bytes.length, annotations: { 'org.opencontainers.image.ref.name': 't' } }]);
});
layout('index-huge', 'index.json of 9 MiB', 'JSON_TOO_LARGE', (dir) => writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [], pad: 'x'.repeat(9 * 1024 * 1024) })));
layout('manifest-blob-huge', 'a manifest blob of 9 MiB', 'JSON_TOO_LARGE', (dir) => {
  const { json } = goodManifest(dir);
  const bytes = Buffer.from(JSON.stringify({ ...json, annotations: { pad: 'x'.repeat(9 * 1024 * 1024) } }));
  setIndex(dir, [{ mediaType: OCI_MANIFEST, digest: putBlob(dir, bytes), size: bytes.length, annotations: { 'org.opencontainers.image.ref.name': 't' } }]);
});
layout('both-shapes-as-manifest', 'a blob with "manifests" and "layers", claimed a manifest', 'MANIFEST_INVALID', (dir) => {
  const { digest, json } = goodManifest(dir);
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, config: json.config, layers: json.layers, manifests: [{ mediaType: OCI_MANIFEST, digest, size: 1 }] }));
  setIndex(dir, [{ mediaType: OCI_MANIFEST, digest: putBlob(dir, bytes), size: bytes.length, annotations: { 'org.opencontainers.image.ref.name': 't' } }]);
});
layout('both-shapes-as-index', 'a blob with "manifests" and "layers", claimed an index', 'INDEX_INVALID', (dir) => {
  const { digest, json } = goodManifest(dir);
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, config: json.config, layers: json.layers, manifests: [{ mediaType: OCI_MANIFEST, digest, size: 1 }] }));
  setIndex(dir, [{ mediaType: OCI_INDEX, digest: putBlob(dir, bytes), size: bytes.length, annotations: { 'org.opencontainers.image.ref.name': 't' } }]);
});
layout('manifest-says-index', 'a manifest whose own mediaType says index', 'INDEX_INVALID', (dir) => {
  const { json } = goodManifest(dir);
  const bytes = Buffer.from(JSON.stringify({ ...json, mediaType: OCI_INDEX }));
  setIndex(dir, [{ mediaType: OCI_MANIFEST, digest: putBlob(dir, bytes), size: bytes.length, annotations: { 'org.opencontainers.image.ref.name': 't' } }]);
});
layout('blob-symlink', 'a blob that is a symlink to /etc/passwd', 'DIGEST_MISMATCH', (dir) => {
  const { json } = goodManifest(dir);
  const config = (json.config as { digest: string }).digest;
  rmSync(path.join(dir, 'blobs/sha256', config.slice(7)));
  symlinkSync('/etc/passwd', path.join(dir, 'blobs/sha256', config.slice(7)));
});
layout('layer-size-lie', 'a layer descriptor whose size is not the blob\'s', 'SIZE_MISMATCH', (dir) => {
  const { json } = goodManifest(dir);
  (json.layers as { size: number }[])[0]!.size += 1;
  const bytes = Buffer.from(JSON.stringify(json));
  setIndex(dir, [{ mediaType: OCI_MANIFEST, digest: putBlob(dir, bytes), size: bytes.length, annotations: { 'org.opencontainers.image.ref.name': 't' } }]);
});
layout('no-oci-layout', 'a directory without oci-layout', 'INDEX_INVALID', (dir) => rmSync(path.join(dir, 'oci-layout')));


beforeAll(async () => {
  process.env.LAYERWISE_TMPDIR = sbx.tmp;
  const img = randomImage({ layers: 2, fileSize: 3000, seed: 'archives', compression: 'none', family: 'docker' });
  const good = path.join(sbx.inputs, 'good.tar');
  await writeImage(img, `docker-archive:${good}:x/good:1`);
  await writeImage(img, `oci:${sbx.inputs}/good-oci:t`);
  members = (await readTarEntriesInMemory(Readable.from([readFileSync(good)]), { subject: 'good' })).map(({ entry, data }) => ({ path: entry.path, type: entry.type === 'dir' ? 'dir' : 'file', mode: entry.mode, ...(entry.type === 'dir' ? {} : { data }) }) as MemoryEntry);
  for (const c of cases) c.make();
  // A patch whose --from will be each hostile image: what patch apply must refuse before anything is written.
  patchFile = path.join(sbx.inputs, 'update.lwp');
  await createPatch({ from: [`docker-archive:${good}`], to: randomImage({ layers: 3, fileSize: 3000, seed: 'archives', compression: 'none', family: 'docker' }), output: patchFile });
  mkdirSync(path.join(sbx.inputs, 'never'), { recursive: true });
  sbx.snapshot();
}, 120_000);

afterAll(() => {
  if (savedTmp === undefined) delete process.env.LAYERWISE_TMPDIR;
  else process.env.LAYERWISE_TMPDIR = savedTmp;
  sbx.remove();
});

function expectContained(what: string): void {
  expect(sbx.changes(), what).toEqual([]);
  expect(readdirSync(sbx.tmp), `${what}: scratch left behind`).toEqual([]);
  expect(readdirSync(sbx.out), `${what}: destination left behind`).toEqual([]);
}

describe('hostile archives and layouts: refused on open by every command, nothing written', () => {
  it('the good archive and layout open (control)', async () => {
    for (const ref of [`docker-archive:${sbx.inputs}/good.tar`, `oci:${sbx.inputs}/good-oci:t`]) {
      const img = await openImage(ref);
      expect(img.layers).toHaveLength(2);
      await img.close();
    }
  });

  it.each(cases.map((c, i) => [c.id, c, i] as const))('%s', async (_id, c, i) => {
    let caught: unknown;
    try {
      const img = await openImage(c.ref);
      await img.close();
    } catch (err) {
      caught = err;
    }
    expect(isLayerwiseError(caught), `${c.title}: ${String(caught)}`).toBe(true);
    expect((caught as { code: string }).code, `${c.title}: ${(caught as Error).message}`).toBe(c.code);
    await expect(applyPatch({ patch: patchFile, from: [c.ref], to: `oci:${sbx.out}/applied:1` })).rejects.toMatchObject({ code: c.code });
    expectContained(`${c.id} open/apply`);
    // The CLI: copy, validate and analyze each print one line with the code and exit 1 (inspect, patch and
    // bundle open images the same way: openImage, above).
    const env = { LAYERWISE_TMPDIR: sbx.tmp };
    for (const args of [
      ['copy', '-q', c.ref, i % 2 ? `oci:${sbx.out}/copy:t` : `docker-archive:${sbx.out}/copy.tar:x/y:1`],
      ['validate', '-q', c.ref],
      ['analyze', '-q', c.ref],
    ]) {
      const r = await layerwise(args, { env, cwd: sbx.work });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(new RegExp(`^layerwise: [^\\n]*\\[${c.code}\\]\\n$`));
      expect(r.stdout, args.join(' ')).toBe('');
    }
    expectContained(`${c.id} CLI`);
  });
});
