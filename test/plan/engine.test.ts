/**
 * The plan against a real engine: the corpus, with stand-in images for python/node/nginx (busybox plus
 * shell stand-ins for apt-get, pip and npm that write deterministic files), is planned by the CLI; the
 * generated build.sh builds the bases and services with the classic builder; the services then share
 * their bases' layers, checked by diffID, and hold the same files and config as images built from the
 * original Dockerfiles. The same run measures real layer sizes from the originals, finds the content
 * they store twice, and its savings model agrees with the fleet figures of the images actually built.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveEngine, dockerCli } from '../support/tools.js';
import { loadBusybox, startEngine, type TestEngine } from '../support/engine.js';
import { layerwise, run } from '../support/run.js';

const CORPUS = path.join(import.meta.dirname, 'corpus');
const TOOLS = path.join(import.meta.dirname, 'engine', 'tools');
const enabled = haveEngine();

/** The corpus's FROM images, mapped to tiny local stand-ins. */
const STAND_INS: [RegExp, string][] = [
  [/^FROM python:\$\{PYTHON_VERSION\}-slim$/m, 'FROM lwtest/python:${PYTHON_VERSION}'],
  [/^FROM python:3\.12-slim$/m, 'FROM lwtest/python:3.12'],
  [/^FROM node:20-slim AS build$/m, 'FROM lwtest/node:20 AS build'],
  [/^FROM node:20-slim$/m, 'FROM lwtest/node:20'],
  [/^FROM nginx:1\.27-alpine$/m, 'FROM lwtest/nginx:1.27'],
];

const FLEET = `
period: week
hosts:
  - name: web
    count: 3
    services: [api, billing]
  - name: ml
    services: [inference]
steps:
  - match: apt-get
    changes: 1
  - match: pip install
    changes: 2
  - match: "COPY . ."
    changes: 10
`;

// What the stand-ins write, to compute the duplicated bytes by hand.
const aptFile = (name: string) => Array.from({ length: 400 }, (_, i) => `${name} ${i}\n`).join('');
const pipFile = (line: string) => Array.from({ length: 300 }, (_, i) => `# ${line} ${i}\n`).join('');

describe.runIf(enabled)('plan with a real engine', () => {
  let engine: TestEngine;
  let work: string;
  let corpus: string;
  let out: string;
  let report: any;
  let built: any;
  let originalsReport: any;

  const docker = async (args: string[], cwd?: string) => {
    const r = await engine.docker(args, cwd ? { cwd } : {});
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const layers = async (name: string): Promise<string[]> => (await engine.client.inspectImage(name))!.RootFS!.Layers!;
  const config = async (name: string) => {
    const body = (await engine.client.inspectImage(name)) as unknown as { Config: Record<string, unknown> };
    const c = body.Config;
    // Definitions of one ENV instruction are one step in any order; the planned base keeps the first service's order.
    return { Env: [...((c.Env as string[]) ?? [])].sort(), Cmd: c.Cmd, Entrypoint: c.Entrypoint, WorkingDir: c.WorkingDir, ExposedPorts: c.ExposedPorts, Labels: c.Labels, User: c.User };
  };
  const sh = (name: string, script: string) => docker(['run', '--rm', '--network', 'none', '--user', '0', '--entrypoint', '/bin/sh', name, '-c', script]);
  // Every file the stand-ins and COPYs wrote, with its sha256; .dockerignore apart (see below).
  const files = (name: string) => sh(name, 'find /app /usr/share/pkgs /usr/local/lib /models -type f ! -name .dockerignore -exec sha256sum {} \\; 2>/dev/null | sort; true');

  beforeAll(async () => {
    engine = await startEngine('plan');
    work = mkdtempSync('/tmp/lw-plan-eng-');
    await loadBusybox(engine, 'lwtest/busybox:1');
    // The stand-in OS images: busybox with apt-get, pip and npm stand-ins.
    const os = path.join(work, 'os');
    cpSync(TOOLS, os, { recursive: true });
    writeFileSync(path.join(os, 'Dockerfile'), 'FROM lwtest/busybox:1\nCOPY apt-get pip npm /usr/local/bin/\n');
    await docker(['build', '-q', '-t', 'lwtest/python:3.12', os]);
    await docker(['tag', 'lwtest/python:3.12', 'lwtest/node:20']);
    await docker(['tag', 'lwtest/busybox:1', 'lwtest/nginx:1.27']);

    corpus = path.join(work, 'corpus');
    cpSync(CORPUS, corpus, { recursive: true });
    for (const s of readdirSync(corpus)) {
      const f = path.join(corpus, s, 'Dockerfile');
      let text = readFileSync(f, 'utf8');
      for (const [re, to] of STAND_INS) text = text.replace(re, to);
      writeFileSync(f, text);
    }
    // One modification time for every file, as a fresh checkout has: layers then depend on content only.
    const when = new Date('2024-01-01T00:00:00Z');
    for (const f of readdirSync(corpus, { recursive: true }) as string[]) utimesSync(path.join(corpus, f), when, when);
    // Images built from the original Dockerfiles, for measured sizes and the before/after comparison.
    // --no-cache everywhere: services are built separately (as in CI), not sharing layers through one
    // machine's build cache, and the planned images share layers because of the plan alone.
    for (const s of ['api', 'billing', 'inference', 'notifier']) await docker(['build', '--no-cache', '-q', '-t', `orig/${s}:1`, path.join(corpus, s)]);

    out = path.join(work, 'plan');
    writeFileSync(path.join(work, 'fleet.yaml'), FLEET);
    const env = { DOCKER_HOST: engine.host };
    const r = await layerwise(
      ['plan', corpus, '--write', out, '--fleet', path.join(work, 'fleet.yaml'), '--json', '--images', 'api=docker-daemon:orig/api:1', 'billing=docker-daemon:orig/billing:1', 'inference=docker-daemon:orig/inference:1'],
      { env },
    );
    if (r.code !== 0) throw new Error(`layerwise plan failed: ${r.stderr}`);
    report = JSON.parse(r.stdout);

    const wrapper = path.join(work, 'docker-no-cache');
    writeFileSync(wrapper, `#!/bin/sh\ncmd=$1; shift\nexec ${dockerCli()} "$cmd" --no-cache "$@"\n`, { mode: 0o755 });
    const b = await run('sh', [path.join(out, 'build.sh')], { env: { DOCKER: wrapper, DOCKER_HOST: engine.host, DOCKER_BUILDKIT: '0', DOCKER_CLI_HINTS: 'false' }, timeoutMs: 600_000 });
    if (b.code !== 0) throw new Error(`build.sh failed: ${b.stderr}\n${b.stdout}`);

    // The fleet figures of the images actually built, with and without the plan.
    const fleetOf = async (prefix: string) => {
      const rr = await layerwise(['plan', '--fleet', path.join(work, 'fleet.yaml'), '--json', '--images', `api=docker-daemon:${prefix}api${prefix === 'orig/' ? ':1' : ''}`, `billing=docker-daemon:${prefix}billing${prefix === 'orig/' ? ':1' : ''}`, `inference=docker-daemon:${prefix}inference${prefix === 'orig/' ? ':1' : ''}`], { env });
      if (rr.code !== 0) throw new Error(`layerwise plan --images failed: ${rr.stderr}`);
      return JSON.parse(rr.stdout);
    };
    built = await fleetOf('layerwise/');
    originalsReport = await fleetOf('orig/');
  }, 900_000);

  afterAll(async () => {
    await engine?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('writes the base and service Dockerfiles and a build script', () => {
    expect(report.plan.bases.map((b: { name: string }) => b.name)).toEqual(['layerwise/base-1-python-apt', 'layerwise/base-2-pip', 'layerwise/base-3-model', 'layerwise/base-4-node-apt']);
    expect(readFileSync(path.join(out, 'bases/base-1-python-apt/Dockerfile'), 'utf8').split('\n')[1]).toBe('FROM lwtest/python:3.12');
    expect(existsSync(path.join(out, 'bases/base-2-pip/requirements.txt'))).toBe(true);
    expect(existsSync(path.join(out, 'bases/base-3-model/models/classifier.onnx'))).toBe(true);
    expect(readFileSync(path.join(out, 'services/billing/Dockerfile'), 'utf8')).toContain('FROM layerwise/base-2-pip\nCOPY . .\n');
  });

  it('builds images that share their bases\' layers, by diffID', async () => {
    const names = ['base-1-python-apt', 'base-2-pip', 'base-3-model', 'base-4-node-apt', 'api', 'billing', 'inference', 'scorer', 'worker', 'notifier', 'frontend'];
    const L: Record<string, string[]> = {};
    for (const n of names) L[n] = await layers(`layerwise/${n}`);
    const os = await layers('lwtest/python:3.12');
    expect(os).toHaveLength(2);
    // Each base adds a layer per RUN and COPY, and one for a WORKDIR that creates its folder (ENV makes none).
    expect(L['base-1-python-apt']!.slice(0, 2)).toEqual(os);
    expect(L['base-1-python-apt']).toHaveLength(3); // + RUN apt-get
    expect(L['base-2-pip']!.slice(0, 3)).toEqual(L['base-1-python-apt']);
    expect(L['base-2-pip']).toHaveLength(6); // + WORKDIR /app, COPY requirements.txt, RUN pip install
    expect(L['base-3-model']!.slice(0, 6)).toEqual(L['base-2-pip']);
    expect(L['base-3-model']).toHaveLength(7); // + COPY models/
    expect(L['base-4-node-apt']!.slice(0, 2)).toEqual(os);
    expect(L['base-4-node-apt']).toHaveLength(3);
    expect(L['base-4-node-apt']![2]).not.toBe(L['base-1-python-apt']![2]); // other packages
    // Every service starts with exactly its base's layers, then its own.
    const onBase: [string, string, number][] = [
      ['api', 'base-2-pip', 1], // COPY . .
      ['billing', 'base-2-pip', 1],
      ['inference', 'base-3-model', 1],
      ['scorer', 'base-3-model', 1],
      ['worker', 'base-1-python-apt', 4], // WORKDIR, COPY requirements.txt, RUN pip, COPY worker/
      ['notifier', 'base-4-node-apt', 4], // WORKDIR, COPY package files, RUN npm ci, COPY . .
    ];
    for (const [svc, base, own] of onBase) {
      expect(L[svc]!.slice(0, L[base]!.length), `${svc} on ${base}`).toEqual(L[base]);
      expect(L[svc]!.length, svc).toBe(L[base]!.length + own);
    }
    // Pairwise: the layers two services have in common, from the bottom.
    const common = (a: string, b: string) => {
      let n = 0;
      while (n < L[a]!.length && L[a]![n] === L[b]![n]) n++;
      return n;
    };
    expect(common('api', 'billing')).toBe(6);
    expect(common('inference', 'scorer')).toBe(7);
    expect(common('api', 'inference')).toBe(6);
    expect(common('notifier', 'api')).toBe(2); // the stand-in OS image only
    // worker shares base-1; its own WORKDIR layer may equal base-2's (an empty folder), its requirements differ.
    expect(common('api', 'worker')).toBeGreaterThanOrEqual(3);
    expect(L.worker![4]).not.toBe(L.api![4]);
    // The frontend image is its nginx stage: the stand-in nginx plus two COPYs.
    expect(L.frontend!.slice(0, 1)).toEqual(await layers('lwtest/nginx:1.27'));
    expect(L.frontend).toHaveLength(3);
  });

  it('the planned images hold the same files and config as the originals', async () => {
    // billing and notifier were reordered (pip install and npm ci moved before COPY . .).
    for (const s of ['api', 'billing', 'inference', 'notifier']) {
      const planned = await files(`layerwise/${s}`);
      expect(planned.split('\n').length, s).toBeGreaterThan(8);
      expect(planned, s).toBe(await files(`orig/${s}:1`));
      expect(await config(`layerwise/${s}`), s).toEqual(await config(`orig/${s}:1`));
    }
    // Built with -f from outside the context, the docker CLI adds the Dockerfile to the context and a
    // line excluding it to .dockerignore, which COPY . . then copies: the original lines, plus that one.
    const original = await sh('orig/inference:1', 'cat /app/.dockerignore');
    const planned = await sh('layerwise/inference', 'cat /app/.dockerignore');
    expect(original).toBe('models/*.tmp\n');
    expect(planned.startsWith(original)).toBe(true);
    expect(planned.slice(original.length).trim().split('\n')).toHaveLength(1);
  });

  it('measures real layer sizes and finds the content the originals store in different layers', () => {
    expect(report.measurements).toEqual(['api', 'billing', 'inference'].map((s) => ({ service: s, image: `docker-daemon:orig/${s}:1`, baseLayers: 2 })));
    const api = report.sharing.images.find((i: { reference: string }) => i.reference === 'api');
    // base-1's own layer is api's RUN apt-get layer (index 2), measured.
    expect(report.sizes.bases['1']).toEqual({ size: api.layers[2].size, source: 'measured' });
    // base-2's: api's WORKDIR, COPY requirements.txt and pip install layers.
    expect(report.sizes.bases['2']).toEqual({ size: api.layers[3].size + api.layers[4].size + api.layers[5].size, source: 'measured' });

    // By hand: the three originals each installed the same packages in their own layers, and each
    // copied requirements.txt into a layer of its own. (api and inference copy it a second time with
    // COPY . ., but the engine leaves a file out of a layer when its size, mode and mtime are unchanged.)
    const apt = ['ca-certificates', 'curl', 'tini'].reduce((a, p) => a + aptFile(p).length, 0);
    const reqLines = readFileSync(path.join(CORPUS, 'api/requirements.txt'), 'utf8').trim().split('\n');
    const pip = reqLines.reduce((a, l) => a + pipFile(l).length, 0);
    const req = readFileSync(path.join(CORPUS, 'api/requirements.txt')).length;
    const model = readFileSync(path.join(CORPUS, 'inference/models/classifier.onnx')).length;
    const expected =
      2 * apt + // the apt-get layer of api, billing and inference: 3 copies, 2 extra
      2 * pip + // the pip layer of each: 3 copies, 2 extra
      2 * req + // requirements.txt in 3 layers
      1 * model; // inference copies models/ to /models, then again to /app/models with COPY . .
    expect(report.sharing.totals.duplicateBytes).toBe(expected);
    expect(report.sharing.totals.duplicateGroups).toBe(3 + reqLines.length + 1 + 1);
  });

  it('predicts the fleet figures of the images it builds', () => {
    const s = report.savings;
    expect(s.before.exact).toBe(true);
    expect(s.after.exact).toBe(true);
    // Sizes measured from the originals, identities from the plan; the images built from the plan,
    // measured as they are, give the same figures but for one file: billing's COPY . . no longer
    // carries requirements.txt, which base-2 already holds with the same size, mode and mtime (the
    // engine leaves unchanged files out of a layer): one 512-byte header and one 512-byte block less,
    // stored once and pulled by each of the 3 web hosts.
    expect(built.current.coldPull).toBe(s.after.coldPull - 3 * 1024);
    expect(built.current.registry).toBe(s.after.registry - 1024);
    // Before the plan, the model is the images as they are.
    expect(originalsReport.current.coldPull).toBe(s.before.coldPull);
    expect(originalsReport.current.registry).toBe(s.before.registry);
    expect(originalsReport.current.periodPull).toBeGreaterThan(0);
    expect(s.saved.coldPull).toBeGreaterThan(0);
    expect(s.saved.periodPull).toBeGreaterThan(0);
  });
});
