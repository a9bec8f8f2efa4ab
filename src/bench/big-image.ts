import { createCipheriv, createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { layerFromTarFile } from '../image/file-layer.js';
import { assembleImage, defaultConfig } from '../image/memory.js';
import { writeDockerArchive } from '../transports/docker-archive/write.js';
import { paddingFor } from '../tar/header.js';
import { encodeHeader, END_OF_ARCHIVE } from '../tar/writer.js';

/**
 * Generates a large, realistic image pair for benchmarks without holding anything in memory: an OS-like
 * layer of text files and binary "model" parts, a runtime layer, an app layer. The new image keeps the
 * OS layer, rebuilds the runtime layer (new mtimes, a few changed and added files) and edits the app.
 */

/** Deterministic fast pseudo-random bytes (AES-128-CTR over zeros). */
function prng(seed: string): (n: number) => Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const c = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return (n) => c.update(Buffer.alloc(n));
}

const WORDS = 'const value return function import export async await result request response handler config layer image digest stream buffer error message status data items index length'.split(' ');

function textBlock(seed: string, size: number): Buffer {
  const r = prng(seed)(size);
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  let i = 0;
  while (o < size) {
    const w = WORDS[r[i++ % r.length]! % WORDS.length]!;
    const piece = r[i % r.length]! % 7 === 0 ? `${w};\n` : `${w} `;
    o += out.write(piece, o, 'latin1');
  }
  return out;
}

interface FileSpec {
  path: string;
  size: number;
  kind: 'text' | 'binary';
  seed: string;
  mtime: number;
  edit?: string;
}

async function writeLayer(file: string, files: FileSpec[]): Promise<void> {
  const fh = await open(file, 'w');
  let pos = 0;
  const put = async (b: Buffer) => {
    await fh.write(b, 0, b.length, pos);
    pos += b.length;
  };
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/') + '/';
      if (!dirs.has(d)) {
        dirs.add(d);
        await put(encodeHeader({ path: d, type: 'dir', mode: 0o755, mtime: f.mtime }));
      }
    }
    await put(encodeHeader({ path: f.path, type: 'file', size: f.size, mode: 0o644, mtime: f.mtime }));
    const gen = f.kind === 'binary' ? prng(f.seed) : undefined;
    let text: Buffer | undefined = f.kind === 'text' ? textBlock(f.seed, f.size) : undefined;
    if (text && f.edit) {
      // A few small edits in place, as a bug fix does.
      for (let k = 0; k < 4; k++) text.write(`/*${f.edit}${k}*/`, Math.floor(((k + 1) * f.size) / 5), 'latin1');
    }
    for (let off = 0; off < f.size; off += 8 << 20) {
      const n = Math.min(8 << 20, f.size - off);
      await put(text ? text.subarray(off, off + n) : gen!(n));
    }
    text = undefined;
    const pad = paddingFor(f.size);
    if (pad) await put(Buffer.alloc(pad));
  }
  await put(END_OF_ARCHIVE);
  await fh.close();
}

export interface BigPair {
  old: string;
  new: string;
}

/** Writes big_1.tar and big_2.tar (docker-archive) in `dir`, about `gb` GB each. */
export async function generateBigPair(dir: string, gb = 3): Promise<BigPair> {
  // At scale 1 the old image is about 2.15 GB.
  const scale = gb / 2.15;
  const osFiles: FileSpec[] = [];
  for (let i = 0; i < Math.round(6000 * scale); i++) osFiles.push({ path: `usr/lib/os/pkg${i % 60}/file${i}.py`, size: 80_000 + (i % 17) * 3000, kind: 'text', seed: `os${i}`, mtime: 1_700_000_000 });
  for (let i = 0; i < Math.round(10 * scale); i++) osFiles.push({ path: `opt/models/part-${String(i).padStart(2, '0')}.bin`, size: 100 * 1024 * 1024, kind: 'binary', seed: `model${i}`, mtime: 1_700_000_000 });
  const runtime = (rebuilt: boolean): FileSpec[] => {
    const out: FileSpec[] = [];
    for (let i = 0; i < Math.round(3000 * scale); i++) {
      const changed = rebuilt && i % 600 === 0;
      out.push({ path: `usr/local/lib/runtime/mod${i}.so`, size: 60_000 + (i % 11) * 5000, kind: i % 3 === 0 ? 'binary' : 'text', seed: `rt${i}`, mtime: rebuilt ? 1_700_100_000 : 1_700_000_500, ...(changed ? { edit: 'rt' } : {}) });
    }
    out.push({ path: 'usr/local/lib/runtime/big-index.db', size: 150 * 1024 * 1024, kind: 'text', seed: 'db', mtime: rebuilt ? 1_700_100_000 : 1_700_000_500, ...(rebuilt ? { edit: 'db' } : {}) });
    if (rebuilt) for (let i = 0; i < 10; i++) out.push({ path: `usr/local/lib/runtime/added${i}.so`, size: 200_000, kind: 'binary', seed: `added${i}`, mtime: 1_700_100_000 });
    return out.sort((a, b) => (a.path < b.path ? -1 : 1));
  };
  const app = (v: 1 | 2): FileSpec[] => {
    const out: FileSpec[] = [];
    for (let i = 0; i < 400; i++) out.push({ path: `app/src/module${i}.js`, size: 150_000, kind: 'text', seed: `app${i}`, mtime: 1_700_000_900, ...(v === 2 && i % 13 === 0 ? { edit: 'fix' } : {}) });
    return out;
  };
  const layerFiles: Record<string, FileSpec[]> = { os: osFiles, rt1: runtime(false), rt2: runtime(true), app1: app(1), app2: app(2) };
  const layers: Record<string, Awaited<ReturnType<typeof layerFromTarFile>>> = {};
  for (const [name, files] of Object.entries(layerFiles)) {
    const f = path.join(dir, `${name}.layer.tar`);
    await writeLayer(f, files);
    layers[name] = await layerFromTarFile(f, 'docker');
  }
  const mk = (names: string[], v: number) =>
    assembleImage({
      layers: names.map((n) => layers[n]!),
      config: defaultConfig(names.map((n) => ({ created: '2024-01-01T00:00:00Z', created_by: `layer ${n}` }))),
      family: 'docker',
      names: [`bench/big:${v}`],
    });
  const pair = { old: path.join(dir, 'big_1.tar'), new: path.join(dir, 'big_2.tar') };
  await writeDockerArchive([{ image: mk(['os', 'rt1', 'app1'], 1), tags: ['bench/big:1'] }], pair.old);
  await writeDockerArchive([{ image: mk(['os', 'rt2', 'app2'], 2), tags: ['bench/big:2'] }], pair.new);
  const { rm } = await import('node:fs/promises');
  for (const n of Object.keys(layerFiles)) await rm(path.join(dir, `${n}.layer.tar`), { force: true });
  return pair;
}
