/**
 * Crash safety: the built CLI is killed with SIGKILL at seeded random points while it copies, applies a
 * patch and applies a bundle, into every kind of destination (OCI layouts new and existing, archives,
 * a real Docker engine). After each kill the destination is as it was or complete and valid; a rerun
 * then succeeds and leaves no temporaries (.lw-tmp files, scratch directories) behind.
 *
 * LW_KILL_SEED=<n> reproduces a run; the seed in use is printed.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBundle } from '../../src/deploy/bundle.js';
import { validateImage } from '../../src/image/validate.js';
import type { Image } from '../../src/model/image.js';
import { createPatch } from '../../src/patch/create.js';
import { tarFromEntries, type MemoryEntry } from '../../src/tar/writer.js';
import { seededBytes, tarDirectoryToBuffer } from '../../src/testing/images.js';
import { openImage, writeImage } from '../../src/transports/index.js';
import { busyboxRootfs, startEngine, type TestEngine } from '../support/engine.js';
import { haveEngine } from '../support/tools.js';
import { Sandbox } from './sandbox.js';
import { assembleImage, defaultConfig, MemoryLayer } from '../../src/image/memory.js';

const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const seed = Number(process.env.LW_KILL_SEED ?? Date.now() % 100_000);
const sbx = new Sandbox('kill');

function mulberry32(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(seed);

interface Run {
  pid: number;
  killed: boolean;
  code: number | null;
  ms: number;
  stderr: string;
}

/** Runs the CLI; with `killAfter`, sends SIGKILL after that many ms (if it is still running). */
function cli(args: string[], killAfter?: number, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env, LAYERWISE_TMPDIR: sbx.tmp }, cwd: sbx.work, stdio: ['ignore', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (c: Buffer) => err.push(c));
    let killed = false;
    const timer = killAfter === undefined ? undefined : setTimeout(() => {
      killed = child.kill('SIGKILL');
    }, killAfter);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ pid: child.pid ?? -1, killed: killed && signal === 'SIGKILL', code, ms: Date.now() - started, stderr: Buffer.concat(err).toString() });
    });
  });
}

/** Every name under `dir` that a run writes temporarily. */
function temporaries(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const n of readdirSync(d)) {
      const p = path.join(d, n);
      if (n.includes('lw-tmp')) out.push(p);
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/** Opens `ref` and checks it is the expected, valid image. */
async function expectImage(ref: string, want: Image, what: string): Promise<void> {
  const img = await openImage(ref);
  try {
    expect(img.id, `${what}: image ID`).toBe(want.id);
    expect(img.layers.map((l) => l.diffId), `${what}: diffIDs`).toEqual(want.layers.map((l) => l.diffId));
    const report = await validateImage(img);
    expect(report.problems, `${what}: validate`).toEqual([]);
  } finally {
    await img.close();
  }
}

/** The blob files of a layout must be exactly those its images use: no orphans once a rerun is done. */
async function layoutBlobs(dir: string, refs: string[]): Promise<{ on: string[]; used: string[] }> {
  const used = new Set<string>();
  for (const ref of refs) {
    const img = await openImage(ref);
    used.add(img.digest.slice(7));
    used.add(img.id.slice(7));
    for (const l of img.layers) used.add(l.descriptor.digest.slice(7));
    await img.close();
  }
  return { on: readdirSync(path.join(dir, 'blobs/sha256')).sort(), used: [...used].sort() };
}

interface Scenario {
  name: string;
  /** Interrupted runs wanted. */
  points: number;
  args: string[];
  env?: Record<string, string>;
  /** Puts the destination in its "before" state. */
  reset(): Promise<void>;
  /** After a kill: as before, or complete and valid. */
  afterKill(what: string): Promise<void>;
  /** After a successful run: complete, valid, nothing left over. */
  complete(what: string): Promise<void>;
}

let startupMs = 0;
const stats: { scenario: string; killedAt: number; of: number; interrupted: boolean; leftovers: number }[] = [];

async function exercise(s: Scenario): Promise<number> {
  await s.reset();
  const first = await cli(s.args, undefined, s.env);
  expect(first.code, `${s.name}: ${first.stderr}`).toBe(0);
  await s.complete(`${s.name} (first run)`);
  const duration = first.ms;
  // Spread over the run, skipping the first half of node's own start-up, where nothing can happen yet.
  const from = Math.min(startupMs / 2, duration / 4);
  let interrupted = 0;
  for (let attempt = 0; interrupted < s.points && attempt < s.points * 3; attempt++) {
    await s.reset();
    const delay = Math.floor(from + random() * (duration * 0.95 - from));
    const what = `${s.name}: kill at ${delay} ms of ${duration} (seed ${seed})`;
    const r = await cli(s.args, delay, s.env);
    if (r.killed) interrupted++;
    else expect(r.code, `${what}: ${r.stderr}`).toBe(0);
    const leftovers = temporaries(sbx.out).length + readdirSync(sbx.tmp).length;
    await s.afterKill(what);
    stats.push({ scenario: s.name, killedAt: delay, of: duration, interrupted: r.killed, leftovers });
    const again = await cli(s.args, undefined, s.env);
    expect(again.code, `${what}: rerun failed: ${again.stderr}`).toBe(0);
    await s.complete(`${what}, after the rerun`);
    // Nothing of the killed run anywhere else either (a scratch file outside LAYERWISE_TMPDIR would show here).
    expect(readdirSync(os.tmpdir()).filter((n) => n.includes(`-${r.pid}-`) && /layerwise|lw-tmp|members/.test(n)), `${what}: left in ${os.tmpdir()}`).toEqual([]);
  }
  expect(interrupted, `${s.name}: runs actually interrupted`).toBe(s.points);
  return interrupted;
}

// Images: a few MB each, so every command takes a few hundred ms to a couple of seconds.
const app = (v: number, files: number): MemoryEntry[] => [
  { path: 'app/', type: 'dir', mode: 0o755 },
  ...Array.from({ length: files }, (_, i) => ({ path: `app/part${i}.bin`, type: 'file' as const, mode: 0o644, data: seededBytes(`app${i}${v > 1 && i % 3 === 0 ? `:v${v}` : ''}`, 1_000_000) })),
  { path: 'app/data', type: 'file', mode: 0o644, data: Buffer.from(`app version ${v}\n`) },
];
const worker = (v: number): MemoryEntry[] => [
  { path: 'worker/', type: 'dir', mode: 0o755 },
  ...Array.from({ length: 4 }, (_, i) => ({ path: `worker/w${i}.bin`, type: 'file' as const, mode: 0o644, data: seededBytes(`worker${i}${v > 1 && i === 1 ? ':v2' : ''}`, 1_000_000) })),
  { path: 'worker/data', type: 'file', mode: 0o644, data: Buffer.from(`worker version ${v}\n`) },
];

let busybox: Buffer;
const images: Record<string, Image> = {};
const files: Record<string, string> = {};

function build(name: string, layers: MemoryEntry[][]): Image {
  const ls = [MemoryLayer.fromTar(busybox, { compression: 'none', family: 'docker' }), ...layers.map((e) => MemoryLayer.fromTar(tarFromEntries(e), { compression: 'none', family: 'docker' }))];
  const config = defaultConfig(ls.map((_, i) => ({ created_by: `${name} layer ${i}` })));
  config.config = { ...(config.config ?? {}), Cmd: ['/bin/sh'] };
  return assembleImage({ layers: ls, config, family: 'docker', names: [name] });
}

beforeAll(async () => {
  const root = busyboxRootfs();
  try {
    busybox = await tarDirectoryToBuffer(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  images.app1 = build('lwkill/app:1', [app(1, 24)]);
  images.app2 = build('lwkill/app:2', [app(2, 24), [{ path: 'app/extra', type: 'file', data: seededBytes('extra', 500_000) }]]);
  images.worker1 = build('lwkill/worker:1', [worker(1)]);
  images.worker2 = build('lwkill/worker:2', [worker(2)]);
  images.keep = build('lwkill/keep:1', [[{ path: 'keep', type: 'file', data: Buffer.from('keep') }]]);
  for (const [k, img] of Object.entries(images)) {
    files[k] = path.join(sbx.inputs, `${k}.tar`);
    await writeImage(img, `docker-archive:${files[k]}:${img.names[0]}`);
  }
  files.patch = path.join(sbx.inputs, 'app.lwp');
  await createPatch({ from: [`docker-archive:${files.app1}`], to: `docker-archive:${files.app2}`, output: files.patch });
  files.bundle = path.join(sbx.inputs, 'release.lwb');
  await createBundle({ pairs: [{ from: `docker-archive:${files.app1}`, to: `docker-archive:${files.app2}` }, { from: `docker-archive:${files.worker1}`, to: `docker-archive:${files.worker2}` }], output: files.bundle });
  startupMs = (await cli(['--version'])).ms;
  console.log(`kill test seed ${seed} (LW_KILL_SEED=${seed} reproduces it); node start-up ${startupMs} ms`);
}, 120_000);

afterAll(() => {
  const by = new Map<string, number>();
  for (const s of stats) if (s.interrupted) by.set(s.scenario, (by.get(s.scenario) ?? 0) + 1);
  const spans = [...new Set(stats.map((s) => s.scenario))].map((n) => `${n} ${stats.find((s) => s.scenario === n)!.of} ms`).join(', ');
  console.log(`kill points (interrupted runs) by scenario: ${JSON.stringify(Object.fromEntries(by))}; total ${[...by.values()].reduce((a, b) => a + b, 0)}; ${stats.filter((s) => s.leftovers > 0).length} left temporaries for the rerun to clean; run lengths: ${spans}`);
  sbx.remove();
});

const out = (n: string) => path.join(sbx.out, n);
const clean = (p: string) => rmSync(p, { recursive: true, force: true });

function noLeftovers(what: string): void {
  expect(temporaries(sbx.out), `${what}: temporaries`).toEqual([]);
  expect(readdirSync(sbx.tmp), `${what}: scratch directories`).toEqual([]);
}

describe('SIGKILL during copy, patch apply and bundle apply: untouched or complete, and a rerun cleans up', () => {
  it('copy into a new OCI layout, an existing one, a docker-archive and an oci-archive', async () => {
    let n = 0;
    // New layout (recompressing with gzip, so the run is mostly CPU).
    n += await exercise({
      name: 'copy -> new oci',
      points: 7,
      args: ['copy', '-q', '--dest-compress', 'gzip', `docker-archive:${files.app2}`, `oci:${out('fresh')}:2`],
      reset: async () => clean(out('fresh')),
      afterKill: async (what) => {
        if (existsSync(out('fresh'))) await expectImage(`oci:${out('fresh')}:2`, images.app2!, what);
      },
      complete: async (what) => {
        await expectImage(`oci:${out('fresh')}:2`, images.app2!, what);
        noLeftovers(what);
      },
    });
    // Existing layout holding another image: it must stay usable at every point.
    const layout = out('existing');
    n += await exercise({
      name: 'copy -> existing oci',
      points: 6,
      args: ['copy', '-q', '--dest-compress', 'gzip', `docker-archive:${files.app2}`, `oci:${layout}:2`],
      reset: async () => {
        clean(layout);
        await writeImage(images.keep!, `oci:${layout}:keep`);
      },
      afterKill: async (what) => {
        await expectImage(`oci:${layout}:keep`, images.keep!, `${what}: the image that was there`);
        const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
        const tags = index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']).sort();
        expect([['keep'], ['2', 'keep']], `${what}: tags ${tags}`).toContainEqual(tags);
        if (tags.includes('2')) await expectImage(`oci:${layout}:2`, images.app2!, what);
      },
      complete: async (what) => {
        await expectImage(`oci:${layout}:keep`, images.keep!, what);
        await expectImage(`oci:${layout}:2`, images.app2!, what);
        const blobs = await layoutBlobs(layout, [`oci:${layout}:keep`, `oci:${layout}:2`]);
        expect(blobs.on, `${what}: blobs no image uses`).toEqual(blobs.used);
        noLeftovers(what);
      },
    });
    for (const [kind, file, points] of [['docker-archive', 'copy.tar', 6], ['oci-archive', 'copy-oci.tar', 5]] as const) {
      const ref = kind === 'docker-archive' ? `docker-archive:${out(file)}:lwkill/app:2` : `oci-archive:${out(file)}:2`;
      n += await exercise({
        name: `copy -> ${kind}`,
        points,
        args: ['copy', '-q', `docker-archive:${files.app2}`, ref],
        reset: async () => clean(out(file)),
        afterKill: async (what) => {
          if (existsSync(out(file))) await expectImage(ref, images.app2!, what);
        },
        complete: async (what) => {
          await expectImage(ref, images.app2!, what);
          noLeftovers(what);
        },
      });
    }
    expect(n).toBe(24);
  }, 600_000);

  it('patch apply into an OCI layout and a docker-archive', async () => {
    let n = 0;
    for (const [kind, dest, ref, points] of [
      ['oci', out('applied'), `oci:${out('applied')}:2`, 6],
      ['docker-archive', out('applied.tar'), `docker-archive:${out('applied.tar')}:lwkill/app:2`, 6],
    ] as const) {
      n += await exercise({
        name: `patch apply -> ${kind}`,
        points,
        args: ['patch', 'apply', '-q', files.patch!, '--from', `docker-archive:${files.app1}`, '--to', ref],
        reset: async () => clean(dest),
        afterKill: async (what) => {
          if (existsSync(dest)) await expectImage(ref, images.app2!, what);
        },
        complete: async (what) => {
          await expectImage(ref, images.app2!, what);
          noLeftovers(what);
        },
      });
    }
    expect(n).toBe(12);
  }, 600_000);

  it('bundle apply into an OCI layout and a folder of docker-archives', async () => {
    let n = 0;
    const targets = [images.app2!, images.worker2!];
    const from = ['--from', `docker-archive:${files.app1}`, '--from', `docker-archive:${files.worker1}`];
    const layout = out('release');
    n += await exercise({
      name: 'bundle apply -> oci',
      points: 5,
      args: ['bundle', 'apply', '-q', files.bundle!, ...from, '--to', `oci:${layout}`],
      reset: async () => clean(layout),
      afterKill: async (what) => {
        if (!existsSync(layout)) return;
        // Each image is written whole; the layout may hold the first without the second.
        const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
        for (const m of index.manifests) {
          const tag = m.annotations?.['org.opencontainers.image.ref.name']!;
          await expectImage(`oci:${layout}:${tag}`, targets.find((t) => t.names[0] === tag)!, what);
        }
      },
      complete: async (what) => {
        for (const t of targets) await expectImage(`oci:${layout}:${t.names[0]}`, t, what);
        noLeftovers(what);
      },
    });
    const dir = out('archives');
    const archiveOf = (t: Image) => path.join(dir, `${t.names[0]!.replace(/[/:@]/g, '_')}.tar`);
    n += await exercise({
      name: 'bundle apply -> docker-archive folder',
      points: 5,
      args: ['bundle', 'apply', '-q', files.bundle!, ...from, '--to', `docker-archive:${dir}/`],
      reset: async () => clean(dir),
      afterKill: async (what) => {
        for (const t of targets) if (existsSync(archiveOf(t))) await expectImage(`docker-archive:${archiveOf(t)}`, t, what);
      },
      complete: async (what) => {
        for (const t of targets) await expectImage(`docker-archive:${archiveOf(t)}`, t, what);
        noLeftovers(what);
      },
    });
    expect(n).toBe(10);
  }, 600_000);
});

const engineEnabled = haveEngine();

describe.skipIf(!engineEnabled)('SIGKILL during patch apply and bundle apply into a Docker engine', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startEngine('kill');
  }, 120_000);
  afterAll(async () => {
    await engine?.stop();
  });

  const sha = (s: string) => createHash('sha256').update(s).digest('hex');

  /** The image is absent, or present and runnable with the right content. */
  async function absentOrComplete(img: Image, file: string, content: string, what: string, mustExist: boolean): Promise<void> {
    const found = await engine.client.inspectImage(img.id);
    if (!found) {
      expect(mustExist, `${what}: ${img.names[0]} missing`).toBe(false);
      return;
    }
    expect(found.Id).toBe(img.id);
    expect(found.RootFS?.Layers).toEqual(img.layers.map((l) => l.diffId));
    const r = await engine.docker(['run', '--rm', '--network', 'none', img.id, 'sha256sum', file]);
    expect(r.code, `${what}: docker run: ${r.stderr}`).toBe(0);
    expect(r.stdout.split(' ')[0], `${what}: ${file} in the container`).toBe(sha(content));
  }

  async function removeImages(imgs: Image[]): Promise<void> {
    for (const i of imgs) await engine.docker(['rmi', '-f', ...i.names, i.id]);
  }

  it('patch apply and bundle apply to docker-daemon', async () => {
    const env = { DOCKER_HOST: engine.host };
    let n = 0;
    n += await exercise({
      name: 'patch apply -> docker-daemon',
      points: 5,
      args: ['patch', 'apply', '-q', files.patch!, '--from', `docker-archive:${files.app1}`, '--to', 'docker-daemon:lwkill/app:2'],
      env,
      reset: async () => removeImages([images.app2!]),
      afterKill: async (what) => absentOrComplete(images.app2!, '/app/data', 'app version 2\n', what, false),
      complete: async (what) => {
        await absentOrComplete(images.app2!, '/app/data', 'app version 2\n', what, true);
        noLeftovers(what);
      },
    });
    n += await exercise({
      name: 'bundle apply -> docker-daemon',
      points: 5,
      args: ['bundle', 'apply', '-q', files.bundle!, '--from', `docker-archive:${files.app1}`, '--from', `docker-archive:${files.worker1}`, '--to', 'docker-daemon'],
      env,
      reset: async () => removeImages([images.app2!, images.worker2!]),
      afterKill: async (what) => {
        await absentOrComplete(images.app2!, '/app/data', 'app version 2\n', what, false);
        await absentOrComplete(images.worker2!, '/worker/data', 'worker version 2\n', what, false);
      },
      complete: async (what) => {
        await absentOrComplete(images.app2!, '/app/data', 'app version 2\n', what, true);
        await absentOrComplete(images.worker2!, '/worker/data', 'worker version 2\n', what, true);
        noLeftovers(what);
      },
    });
    expect(n).toBe(10);
  }, 900_000);
});

