/**
 * Fuzz targets: each takes a generated input and must either succeed or fail with a LayerwiseError of a
 * stable code other than INTERNAL. Anything else (a TypeError, a RangeError from a huge allocation, an
 * assertion of zstd-napi, a promise that never settles) is a bug. Inputs are mutations of small valid
 * inputs built in memory, plus plain random bytes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { compress as zstdCompress } from 'zstd-napi';
import { isLayerwiseError } from '../../src/errors.js';
import { validateImage } from '../../src/image/validate.js';
import { inspectImage } from '../../src/image/inspect.js';
import { appendLayers } from '../../src/image/mutate.js';
import { parseImageConfig } from '../../src/model/config.js';
import { parseDescriptor } from '../../src/model/descriptor.js';
import type { Image } from '../../src/model/image.js';
import { parseIndex, parseManifest, parseManifestOrIndex } from '../../src/model/manifest.js';
import { PatchSession, verifySession } from '../../src/patch/apply.js';
import { createPatch } from '../../src/patch/create.js';
import { encodePatchPreamble, PATCH_MAGIC, type PatchHeader } from '../../src/patch/format.js';
import { sha256 } from '../../src/model/digest.js';
import { decompressStream } from '../../src/stream/compression.js';
import { indexTarEntries } from '../../src/tar/index-random.js';
import { LayerSafety } from '../../src/tar/layer-safety.js';
import { TarParser, type TarEvent } from '../../src/tar/reader.js';
import { tarFromEntries, type MemoryEntry } from '../../src/tar/writer.js';
import { imageFromEntries, seededBytes } from '../../src/testing/images.js';
import { openImage, writeImage } from '../../src/transports/index.js';
import { readArchiveManifest } from '../../src/transports/docker-archive/read.js';
import { applyMutations, chunks, fixChecksums, mutationArb, type Mutation } from './mutate.js';
import { gnuLong, paxHeader, rawFile, END } from '../security/tarcraft.js';

export interface FuzzTarget<T> {
  name: string;
  what: string;
  arb: () => fc.Arbitrary<T>;
  run(input: T): Promise<void>;
}

/** The contract: success, or a LayerwiseError with a real code. */
export async function stable(fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (isLayerwiseError(err) && err.code !== 'INTERNAL') return;
    throw new Error(`not a stable LayerwiseError: ${err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err)}`);
  }
}

const work = mkdtempSync('/tmp/lw-fuzz-');

/** Removes the targets' scratch files (the test calls it when done). */
export function removeFuzzFiles(): void {
  rmSync(work, { recursive: true, force: true });
}
let fileCounter = 0;
function tempFile(bytes: Uint8Array, ext: string): string {
  const f = path.join(work, `in-${process.pid}-${fileCounter++ % 4}.${ext}`);
  writeFileSync(f, bytes);
  return f;
}

// ---------------------------------------------------------------- tar corpus
const entries = (n: number): MemoryEntry[] => [
  { path: 'dir/', type: 'dir', mode: 0o755 },
  { path: 'dir/file.txt', type: 'file', mode: 0o644, data: Buffer.from('hello\n') },
  { path: 'dir/' + 'long-'.repeat(30) + 'name', type: 'file', data: seededBytes(`l${n}`, 700) },
  { path: 'dir/ünïcode', type: 'file', data: Buffer.from('u'), uid: 3_000_000 },
  { path: 'dir/link', type: 'symlink', linkpath: '/usr/bin/target' },
  { path: 'dir/hard', type: 'hardlink', linkpath: 'dir/file.txt' },
  { path: 'dev/null', type: 'char', devmajor: 1, devminor: 3 },
  { path: 'app/.wh..wh..opq', type: 'file', data: Buffer.alloc(0) },
  { path: 'app/.wh.old', type: 'file', data: Buffer.alloc(0) },
  { path: 'x', type: 'file', data: seededBytes(`x${n}`, 1500), pax: { 'SCHILY.xattr.user.a': 'b' } },
];
export const tarCorpus: Buffer[] = [
  tarFromEntries(entries(0)),
  tarFromEntries(entries(1).slice(0, 3)),
  Buffer.concat([gnuLong('L', Buffer.from('gnu/' + 'n'.repeat(150))), rawFile('short', Buffer.from('data')), paxHeader([['path', 'pax/name'], ['mtime', '1.5']]), rawFile('p', Buffer.alloc(600, 1)), paxHeader([['comment', 'global']], 'g'), rawFile('after-global', Buffer.from('g')), END, Buffer.alloc(9216)]),
  tarFromEntries([]),
];

/** Parses a tar in the given chunks, checks it as a layer, and checks the byte accounting when it succeeds. */
function parseTar(bytes: Buffer, sizes: number[]): void {
  const parser = new TarParser({ subject: 'fuzz' });
  const safety = new LayerSafety('fuzz');
  const parts: Buffer[] = [];
  const events: TarEvent[] = [];
  let layerError: unknown;
  const handle = () => {
    for (const ev of events) {
      if (ev.kind === 'entry') {
        parts.push(ev.entry.headerBytes);
        if (layerError === undefined) {
          try {
            safety.check(ev.entry);
          } catch (err) {
            layerError = err;
          }
        }
      } else if (ev.kind === 'data') parts.push(Buffer.from(ev.chunk));
      else if (ev.kind === 'entry-end') parts.push(ev.padding);
      else if (ev.kind === 'end') parts.push(ev.trailer);
    }
    events.length = 0;
  };
  for (const c of chunks(bytes, sizes)) {
    parser.write(c, events);
    handle();
  }
  parser.end(events);
  handle();
  // Every byte accounted for: what lets the patch engine rebuild layers exactly.
  if (!Buffer.concat(parts).equals(bytes)) throw new Error('tar parser lost or invented bytes');
  if (layerError !== undefined) throw layerError;
}

const tarReader: FuzzTarget<{ seed: number; muts: Mutation[]; fix: boolean; sizes: number[] }> = {
  name: 'tar-reader',
  what: 'TarParser + layer safety on mutated valid tars, in random chunks',
  arb: () => fc.record({ seed: fc.nat(tarCorpus.length - 1), muts: fc.array(mutationArb, { minLength: 1, maxLength: 6 }), fix: fc.boolean(), sizes: fc.array(fc.integer({ min: 1, max: 3000 }), { maxLength: 4 }) }),
  async run({ seed, muts, fix, sizes }) {
    let b = applyMutations(tarCorpus[seed]!, muts);
    if (fix) b = fixChecksums(b);
    await stable(() => parseTar(b, sizes));
  },
};

const tarRandom: FuzzTarget<{ bytes: Uint8Array; header: boolean }> = {
  name: 'tar-random',
  what: 'TarParser on random bytes (optionally behind a valid header)',
  arb: () => fc.record({ bytes: fc.uint8Array({ maxLength: 4096 }), header: fc.boolean() }),
  async run({ bytes, header }) {
    const b = header ? Buffer.concat([tarCorpus[0]!.subarray(0, 512), bytes]) : Buffer.from(bytes);
    await stable(() => parseTar(b, [333]));
  },
};

const tarIndex: FuzzTarget<{ seed: number; muts: Mutation[] }> = {
  name: 'tar-index',
  what: 'indexTarEntries (seeking over data) on mutated tars, and the layer checks over what it finds',
  arb: () => fc.record({ seed: fc.nat(tarCorpus.length - 1), muts: fc.array(mutationArb, { minLength: 1, maxLength: 4 }) }),
  async run({ seed, muts }) {
    const b = fixChecksums(applyMutations(tarCorpus[seed]!, muts));
    const ra = { size: b.length, read: async (o: number, n: number) => b.subarray(o, o + n), stream: () => Readable.from([b]), close: async () => {} };
    await stable(async () => {
      const found = await indexTarEntries(ra, 'fuzz');
      const s = new LayerSafety('fuzz');
      for (const e of found) s.check(e);
    });
  },
};

// ---------------------------------------------------------------- JSON documents
const D = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const jsonCorpus: unknown[] = [
  { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D(1), size: 100 }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D(2), size: 5 }], annotations: { a: 'b' } },
  { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D(3), size: 9, platform: { os: 'linux', architecture: 'amd64' } }] },
  { architecture: 'amd64', os: 'linux', config: { Env: ['A=b'], Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: [D(4), D(5)] }, history: [{ created_by: 'x' }, { empty_layer: true }] },
  [{ Config: 'blobs/sha256/' + '1'.repeat(64), RepoTags: ['a/b:1'], Layers: ['blobs/sha256/' + '2'.repeat(64)] }],
];

/** Replaces the value at one path of a JSON value (chosen by index over all paths). */
function replaceAt(v: unknown, index: number, value: unknown): unknown {
  const paths: (string | number)[][] = [];
  const walk = (x: unknown, p: (string | number)[]) => {
    paths.push(p);
    if (Array.isArray(x)) x.forEach((y, i) => walk(y, [...p, i]));
    else if (x && typeof x === 'object') for (const [k, y] of Object.entries(x)) walk(y, [...p, k]);
  };
  walk(v, []);
  const target = paths[index % paths.length]!;
  if (target.length === 0) return value;
  const copy = JSON.parse(JSON.stringify(v)) as Record<string | number, unknown>;
  let at: Record<string | number, unknown> = copy;
  for (const k of target.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  at[target[target.length - 1]!] = value;
  return copy;
}

const hostileValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom('sha256:../../etc/passwd', 'sha256:' + 'A'.repeat(64), 'sha512:' + 'a'.repeat(128), -1, 2 ** 53, 1e308, '', null, [], {}, 'application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.manifest.v1+json'));

const manifestParsers: FuzzTarget<{ doc: number; edits: [number, unknown][]; muts: Mutation[]; claimed: string | undefined }> = {
  name: 'manifest-config-index',
  what: 'parseManifest, parseIndex, parseManifestOrIndex, parseImageConfig, parseDescriptor and docker-archive manifest.json on mutated documents',
  arb: () => fc.record({ doc: fc.nat(jsonCorpus.length - 1), edits: fc.array(fc.tuple(fc.nat(), hostileValue), { maxLength: 3 }), muts: fc.array(mutationArb, { maxLength: 2 }), claimed: fc.option(fc.constantFrom('application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.manifest.v1+json', 'text/html'), { nil: undefined }) }),
  async run({ doc, edits, muts, claimed }) {
    let v = jsonCorpus[doc];
    for (const [i, val] of edits) v = replaceAt(v, i, val);
    const bytes = applyMutations(Buffer.from(JSON.stringify(v)), muts.filter((m) => m.kind !== 'insert' || m.bytes.length < 64));
    // Whatever a parser accepts carries only well-formed digests: they become file names later.
    const digestsOk = (x: unknown) =>
      JSON.stringify(x, (k, val: unknown) => {
        if (k === 'digest' && (typeof val !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(val))) throw new Error(`accepted digest ${JSON.stringify(val)}`);
        return val;
      });
    await stable(() => digestsOk(parseManifest(bytes, 'm')));
    await stable(() => digestsOk(parseIndex(bytes, 'i')));
    await stable(() => digestsOk(parseManifestOrIndex(bytes, 'x', claimed)));
    await stable(() => {
      const c = parseImageConfig(bytes, 'c');
      for (const d of c.rootfs.diff_ids) if (!/^sha256:[0-9a-f]{64}$/.test(d)) throw new Error(`accepted diffID ${d}`);
      // What inspect and build read from an accepted config must not crash them.
      const image = { reference: 'r', manifest: { schemaVersion: 2, config: { mediaType: 'x', digest: D(1), size: 1 }, layers: [] }, manifestBytes: Buffer.alloc(0), digest: D(1), mediaType: 'x', config: c, configBytes: bytes, id: D(2), layers: [], names: [], close: async () => {} } as unknown as Image;
      JSON.stringify(inspectImage(image));
      appendLayers(image, [], { env: { A: 'b' }, labels: { l: 'v' }, cmd: ['x'], entrypoint: ['y'], user: 'u', workdir: '/w' });
    });
    await stable(() => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(bytes.toString('utf8'));
      } catch {
        return;
      }
      digestsOk(parseDescriptor(parsed, 'd'));
    });
    await stable(async () => {
      const tree = { subject: 't', size: async (n: string) => (n === 'manifest.json' ? bytes.length : undefined), readFile: async () => bytes, open: async () => { throw new Error('no'); }, names: async () => [], close: async () => {} };
      await readArchiveManifest(tree);
    });
  },
};

// ---------------------------------------------------------------- compressed streams
const plain = tarFromEntries(entries(7));
const compressedCorpus: { c: 'gzip' | 'zstd'; b: Buffer }[] = [
  { c: 'gzip', b: gzipSync(plain) },
  { c: 'zstd', b: zstdCompress(plain) },
];

const decompress: FuzzTarget<{ i: number; muts: Mutation[]; sizes: number[] }> = {
  name: 'decompress',
  what: 'gzip and zstd layer streams, mutated, through decompressStream',
  arb: () => fc.record({ i: fc.nat(compressedCorpus.length - 1), muts: fc.array(mutationArb, { minLength: 1, maxLength: 4 }), sizes: fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 3 }) }),
  async run({ i, muts, sizes }) {
    const { c, b } = compressedCorpus[i]!;
    const bytes = applyMutations(b, muts);
    await stable(async () => {
      for await (const _ of decompressStream(Readable.from(chunks(bytes, sizes)), c, 'fuzz')) {
        // drain
      }
    });
  },
};

// ---------------------------------------------------------------- image archives
let archiveBytes: Buffer | undefined;

const imageArchive: FuzzTarget<{ muts: Mutation[]; fix: boolean }> = {
  name: 'image-archive',
  what: 'a small docker-archive, mutated, opened and validated (outer tar, JSON, blobs, layers)',
  arb: () => fc.record({ muts: fc.array(mutationArb, { minLength: 1, maxLength: 4 }), fix: fc.boolean() }),
  async run({ muts, fix }) {
    if (!archiveBytes) {
      const f = path.join(work, 'seed.tar');
      await writeImage(imageFromEntries([entries(3).slice(0, 5)], { compression: 'gzip' }), `docker-archive:${f}:fuzz/x:1`);
      archiveBytes = (await import('node:fs')).readFileSync(f);
    }
    let b = applyMutations(archiveBytes, muts);
    if (fix) b = fixChecksums(b);
    const f = tempFile(b, 'tar');
    await stable(async () => {
      const img = await openImage(`docker-archive:${f}`);
      try {
        await validateImage(img);
      } finally {
        await img.close();
      }
    });
  },
};

// ---------------------------------------------------------------- patches
interface PatchCorpus {
  base: Image;
  bytes: Buffer;
  header: PatchHeader;
  sections: Buffer[];
}
let patchCorpus: PatchCorpus | undefined;

async function loadPatchCorpus(): Promise<PatchCorpus> {
  if (patchCorpus) return patchCorpus;
  const text = (s: string, n: number) => Buffer.from(seededBytes(s, n).toString('base64').slice(0, n));
  const base = imageFromEntries([[{ path: 'bin/', type: 'dir' }, { path: 'bin/tool', type: 'file', mode: 0o755, data: seededBytes('t', 3000) }], [{ path: 'app/', type: 'dir' }, { path: 'app/a.js', type: 'file', data: text('a', 4000) }, { path: 'app/b.js', type: 'file', data: text('b', 2000) }, { path: 'app/link', type: 'symlink', linkpath: 'a.js' }]], { compression: 'none' });
  const a2 = Buffer.concat([text('a', 4000).subarray(0, 1500), Buffer.from('/* changed */'), text('a', 4000).subarray(1500)]);
  // A package archive beside its unpacked files: the patch sends it ahead (preload stream) and takes the files out of it.
  const pkgFiles: MemoryEntry[] = [{ path: 'lib/one.py', type: 'file', data: text('one', 3000) }, { path: 'lib/two.py', type: 'file', data: text('two', 2500) }];
  const pkg: MemoryEntry[] = [{ path: 'app/pkg.tar.gz', type: 'file', data: gzipSync(tarFromEntries(pkgFiles)) }, ...pkgFiles.map((f) => ({ ...f, path: `app/pkg/${f.path}` }))];
  const next = imageFromEntries([[{ path: 'bin/', type: 'dir' }, { path: 'bin/tool', type: 'file', mode: 0o755, data: seededBytes('t', 3000) }], [{ path: 'app/', type: 'dir', mtime: 5 }, { path: 'app/a.js', type: 'file', data: a2 }, { path: 'app/b.js', type: 'file', data: text('b', 2000) }, { path: 'app/b2.js', type: 'file', data: text('b', 2000) }, { path: 'app/link', type: 'symlink', linkpath: 'b.js' }, { path: 'app/new', type: 'file', data: text('n', 700) }, ...pkg]], { compression: 'none' });
  const file = path.join(work, 'seed.lwp');
  const made = await createPatch({ from: [base], to: next, output: file });
  if (!made.streamBytes.preload) throw new Error('the fuzz corpus patch should carry a preloaded archive');
  const bytes = (await import('node:fs')).readFileSync(file);
  const hlen = bytes.readUInt32BE(8);
  const sections: Buffer[] = [];
  let at = 12 + hlen + 32;
  for (const s of made.header.sections) {
    sections.push(bytes.subarray(at, at + s.length));
    at += s.length;
  }
  patchCorpus = { base, bytes, header: made.header, sections };
  return patchCorpus;
}

async function applyInMemory(patch: Buffer, base: Image): Promise<void> {
  const f = tempFile(patch, 'lwp');
  const session = await PatchSession.open({ patch: f, from: [base] });
  try {
    await verifySession(session);
  } finally {
    await session.close();
  }
}

const patchBytes: FuzzTarget<{ muts: Mutation[] }> = {
  name: 'patch-bytes',
  what: 'a patch with raw byte mutations: opened, verified and rebuilt',
  arb: () => fc.record({ muts: fc.array(mutationArb, { minLength: 1, maxLength: 3 }) }),
  async run({ muts }) {
    const c = await loadPatchCorpus();
    const b = applyMutations(c.bytes, muts);
    if (b.equals(c.bytes)) return;
    await stable(() => applyInMemory(b, c.base));
  },
};

/** Header edits a malicious patch maker could make (the digests are recomputed, so only the decoder stands in the way). */
const headerValue = fc.oneof(fc.integer({ min: -3, max: 40 }), fc.constantFrom(2 ** 31, 2 ** 53, -(2 ** 53), 1.5, 'layer', 'config', 'manifest', 'base', 'rebuilt', 'gzip', 'same', 'base-blob', 'recompress', null, [], {}, 'sha256:' + 'f'.repeat(64), '../../x'));

const patchResealed: FuzzTarget<{ section: number; muts: Mutation[]; edits: [number, unknown][] }> = {
  name: 'patch-resealed',
  what: 'a patch whose sections and header are mutated and then re-sealed with correct digests: the decoders alone must hold',
  arb: () => fc.record({ section: fc.nat(), muts: fc.array(mutationArb, { maxLength: 4 }), edits: fc.array(fc.tuple(fc.nat(), headerValue), { maxLength: 2 }) }),
  async run({ section, muts, edits }) {
    const c = await loadPatchCorpus();
    const sections: Buffer[] = c.sections.map((s) => Buffer.from(s));
    const k = section % sections.length;
    sections[k] = applyMutations(sections[k]!, muts);
    let header = JSON.parse(JSON.stringify(c.header)) as PatchHeader;
    header.sections = header.sections.map((s, i) => ({ ...s, length: sections[i]!.length, digest: sha256(sections[i]!) }));
    for (const [i, v] of edits) header = replaceAt(header, i, v) as PatchHeader;
    let preamble: Buffer;
    try {
      preamble = encodePatchPreamble(header);
    } catch {
      return; // not representable (e.g. the header became a non-object)
    }
    await stable(() => applyInMemory(Buffer.concat([preamble, ...sections]), c.base));
  },
};

const patchZstdHeader: FuzzTarget<{ json: string; raw: Uint8Array; useRaw: boolean }> = {
  name: 'patch-header',
  what: 'a patch whose sealed header is arbitrary JSON, or arbitrary bytes (zstd bombs, non-JSON)',
  arb: () => fc.record({ json: fc.json({ maxDepth: 4 }), raw: fc.uint8Array({ maxLength: 300 }), useRaw: fc.boolean() }),
  async run({ json, raw, useRaw }) {
    const c = await loadPatchCorpus();
    const body = useRaw ? Buffer.from(raw) : zstdCompress(Buffer.from(json));
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    const patch = Buffer.concat([PATCH_MAGIC, len, body, Buffer.from(sha256(body).slice(7), 'hex'), ...c.sections]);
    await stable(() => applyInMemory(patch, c.base));
  },
};

export const TARGETS: FuzzTarget<never>[] = [tarReader, tarRandom, tarIndex, manifestParsers, decompress, imageArchive, patchBytes, patchResealed, patchZstdHeader] as unknown as FuzzTarget<never>[];
