/**
 * Benchmark for `layerwise analyze` (BENCHMARKS.md, "## analyze"):
 *
 *   npm run build && node dist/bench/analyze.js [--gb 3] [--dir /tmp/lw-bench-analyze] [--keep]
 *
 * Generates a deterministic docker-archive of about --gb GB, streamed to disk (uncompressed layers:
 * thousands of small files, a node_modules-like tree, a few very large files, overwrites and deletes),
 * then times node's sha256 over the same file and `layerwise analyze` on it with /usr/bin/time, each
 * three times, alternating (the first pass also warms the page cache), and prints the best of each as
 * a table row with every run listed below it.
 */
import { spawnSync } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BLOCK, paddingFor } from '../tar/header.js';
import { encodeHeader, END_OF_ARCHIVE } from '../tar/writer.js';

interface PlannedFile {
  path: string;
  size: number;
  /** A whiteout: deletes `path` from the layers below. */
  whiteout?: boolean;
}

/** mulberry32: a tiny deterministic PRNG, so every run writes the same archive. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function planLayers(targetBytes: number): PlannedFile[][] {
  const r = rng(42);
  const layers: PlannedFile[][] = [];
  let total = 0;
  const share = (f: number) => Math.floor(targetBytes * f);
  const fill = (budget: number, make: (i: number) => PlannedFile): PlannedFile[] => {
    const out: PlannedFile[] = [];
    let used = 0;
    for (let i = 0; used < budget; i++) {
      const f = make(i);
      out.push(f);
      used += f.size;
    }
    total += used;
    return out;
  };
  // 1: a distribution-like base: many small and medium files.
  layers.push(fill(share(0.25), (i) => ({ path: `usr/lib/base/d${i % 300}/f${i}.so`, size: Math.floor(1024 + r() * r() * 200_000) })));
  // 2: apt-style install with package lists left behind.
  layers.push(fill(share(0.1), (i) => ({ path: i % 10 === 0 ? `var/lib/apt/lists/list${i}` : `usr/share/pkg/p${i % 97}/f${i}`, size: Math.floor(512 + r() * 150_000) })));
  // 3: node_modules: tens of thousands of small files.
  layers.push(fill(share(0.12), (i) => ({ path: `app/node_modules/m${i % 2000}/lib/f${i}.js`, size: Math.floor(100 + r() * r() * 20_000) })));
  // 4: a few very large files.
  layers.push(fill(share(0.33), (i) => ({ path: `data/model${i}.bin`, size: Math.floor(share(0.33) / 4) })));
  // 5: a build that later gets deleted, and overwrites of the base.
  layers.push(fill(share(0.12), (i) => ({ path: i % 4 === 0 ? `usr/lib/base/d${i % 300}/f${i}.so` : `tmp/build/o${i}.o`, size: Math.floor(2048 + r() * 400_000) })));
  // 6: deletes the build folder and one large file.
  layers.push([{ path: 'tmp/build', size: 0, whiteout: true }, { path: 'data/model0.bin', size: 0, whiteout: true }]);
  // 7: the application.
  layers.push(fill(Math.max(0, targetBytes - total), (i) => ({ path: `app/src/s${i}.dat`, size: Math.floor(4096 + r() * 1_000_000) })));
  return layers;
}

const POOL = (() => {
  // 16 MiB of deterministic bytes; files are windows into it, each stamped with its own index.
  const pool = Buffer.alloc(16 << 20);
  for (let off = 0, c = 0; off < pool.length; c++) {
    const b = createHash('sha256').update(`pool:${c}`).digest();
    off += b.copy(pool, off);
  }
  return pool;
})();

function entryHeader(f: PlannedFile): Buffer {
  if (f.whiteout) {
    const i = f.path.lastIndexOf('/');
    return encodeHeader({ path: `${f.path.slice(0, i + 1)}.wh.${f.path.slice(i + 1)}`, type: 'file', size: 0, mode: 0o644, mtime: 0 });
  }
  return encodeHeader({ path: f.path, type: 'file', size: f.size, mode: 0o644, mtime: 0 });
}

function tarSize(files: PlannedFile[]): number {
  let n = 0;
  for (const f of files) n += entryHeader(f).length + (f.whiteout ? 0 : f.size + paddingFor(f.size));
  return n + END_OF_ARCHIVE.length;
}

async function write(out: WriteStream, chunk: Buffer, hash?: Hash): Promise<void> {
  hash?.update(chunk);
  if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
}

export async function generateArchive(file: string, targetBytes: number): Promise<{ bytes: number; files: number; layers: number }> {
  const layers = planLayers(targetBytes);
  const out = createWriteStream(file, { highWaterMark: 4 << 20 });
  const diffIds: string[] = [];
  let counter = 0;
  let files = 0;
  for (let l = 0; l < layers.length; l++) {
    const entries = layers[l]!;
    await write(out, encodeHeader({ path: `layer${l}/layer.tar`, type: 'file', size: tarSize(entries), mode: 0o644, mtime: 0 }));
    const h = createHash('sha256');
    for (const f of entries) {
      await write(out, entryHeader(f), h);
      if (f.whiteout) continue;
      files++;
      let left = f.size;
      let pos = (counter * 7919 * BLOCK) % POOL.length;
      const stamp = Buffer.from(`file ${counter++} `);
      let first = true;
      while (left > 0) {
        const n = Math.min(left, POOL.length - pos, 1 << 20);
        let chunk = POOL.subarray(pos, pos + n);
        if (first) {
          chunk = Buffer.concat([stamp.subarray(0, Math.min(stamp.length, n)), chunk.subarray(Math.min(stamp.length, n))]);
          first = false;
        }
        await write(out, chunk, h);
        left -= n;
        pos = (pos + n) % POOL.length;
      }
      const pad = paddingFor(f.size);
      if (pad) await write(out, Buffer.alloc(pad), h);
    }
    await write(out, END_OF_ARCHIVE, h);
    await write(out, Buffer.alloc(paddingFor(tarSize(entries))));
    diffIds.push(`sha256:${h.digest('hex')}`);
  }
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/app/run'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: layers.map((_, i) => ({ created_by: `/bin/sh -c bench layer ${i}` })),
  }));
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: ['bench/analyze:1'], Layers: layers.map((_, l) => `layer${l}/layer.tar`) }]));
  for (const [name, data] of [[configName, config], ['manifest.json', manifest]] as const) {
    await write(out, encodeHeader({ path: name, type: 'file', size: data.length, mode: 0o644, mtime: 0 }));
    await write(out, data);
    await write(out, Buffer.alloc(paddingFor(data.length)));
  }
  await write(out, END_OF_ARCHIVE);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { bytes: statSync(file).size, files, layers: layers.length };
}

function timed(cmd: string[]): { seconds: number; kb: number; stdout: string } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e s %M KB', ...cmd], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  const m = /([0-9.]+) s ([0-9]+) KB\s*$/.exec(r.stderr);
  if (!m) throw new Error(`no /usr/bin/time line in: ${r.stderr}`);
  return { seconds: Number(m[1]), kb: Number(m[2]), stdout: r.stdout };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, def: string) => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] ? args[i + 1]! : def;
  };
  const gb = Number(opt('--gb', '3'));
  const dir = opt('--dir', '/tmp/lw-bench-analyze');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'bench.tar');
  const here = path.dirname(fileURLToPath(import.meta.url));
  const cli = path.join(here, '..', 'cli', 'main.js');
  try {
    if (!existsSync(file)) {
      const t0 = Date.now();
      const g = await generateArchive(file, Math.floor(gb * 1e9));
      process.stderr.write(`generated ${file}: ${g.bytes} bytes, ${g.files} files in ${g.layers} layers, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    }
    const size = statSync(file).size;
    const sha = ['node', '-e', `const h=require('crypto').createHash('sha256');require('fs').createReadStream(process.argv[1],{highWaterMark:1<<20}).on('data',c=>h.update(c)).on('end',()=>console.log(h.digest('hex')))`, file];
    const analyze = ['node', cli, 'analyze', `docker-archive:${file}`, '--json', '-q'];
    const load = loadavg()[0]!.toFixed(2);
    const runs = { sha: [] as ReturnType<typeof timed>[], analyze: [] as ReturnType<typeof timed>[] };
    for (let i = 0; i < 3; i++) {
      runs.sha.push(timed(sha));
      runs.analyze.push(timed(analyze));
    }
    const best = (xs: ReturnType<typeof timed>[]) => xs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const s = best(runs.sha);
    const a = best(runs.analyze);
    const report = JSON.parse(a.stdout) as { totals: { finalFiles: number; wastedBytes: number; layers: number } };
    const layersOf = (r: typeof report) => r.totals.layers;
    const loadAfter = loadavg()[0]!.toFixed(2);
    const cell = (r: ReturnType<typeof timed>) => `${r.seconds.toFixed(2)} s, peak RSS ${Math.round(r.kb / 1024)} MB`;
    process.stdout.write(`| archive | files (final) | node sha256 | layerwise analyze | ratio | load avg (1 min) before / after |\n|---|---|---|---|---|---|\n`);
    process.stdout.write(`| ${(size / 1e9).toFixed(2)} GB, ${layersOf(report)} layers | ${report.totals.finalFiles} | ${cell(s)} | ${cell(a)} | ${(a.seconds / s.seconds).toFixed(2)}x | ${load} / ${loadAfter} |\n`);
    process.stdout.write(`\nall runs: sha256 ${runs.sha.map((r) => r.seconds.toFixed(2)).join(', ')} s; analyze ${runs.analyze.map((r) => r.seconds.toFixed(2)).join(', ')} s (peak RSS ${runs.analyze.map((r) => Math.round(r.kb / 1024)).join(', ')} MB); analyze found ${report.totals.wastedBytes} wasted bytes\n`);
  } finally {
    if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
