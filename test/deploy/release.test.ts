import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveEngine } from '../support/tools.js';
import { loadBusybox, startEngine, type TestEngine } from '../support/engine.js';
import { layerwise } from '../support/run.js';

const enabled = haveEngine();
const SERVICES = ['frontend', 'backend', 'worker'] as const;

/** Writes the build context of one service release; `changed` services get new code in 1.0.1. */
function context(root: string, service: string, version: string, changed: boolean): string {
  const ctx = path.join(root, `${service}-${version}`);
  mkdirSync(path.join(ctx, 'code'), { recursive: true });
  for (let i = 0; i < 8; i++) {
    const lines = Array.from({ length: 300 }, (_, l) => `${service}.handler${i}_${l} = function (req) { return req.id * ${l} + ${i}; };`);
    if (changed && i === 3) lines[120] = `${service}.handler3_120 = function (req) { return req.id * 120 + 3; /* ${version}: fix rounding */ };`;
    writeFileSync(path.join(ctx, 'code', `part${i}.js`), lines.join('\n') + '\n');
  }
  const codeVersion = changed ? version : '1.0.0';
  writeFileSync(path.join(ctx, 'code', 'run.sh'), `#!/bin/sh\necho "${service} code ${codeVersion}"\n`);
  writeFileSync(path.join(ctx, 'Dockerfile'), `FROM lwtest/base:1\nCOPY code/ /srv/${service}/\nRUN chmod +x /srv/${service}/run.sh\nCMD ["/srv/${service}/run.sh"]\n`);
  return ctx;
}

describe.skipIf(!enabled)('release bundles: vendor engine to site engine through one file', () => {
  let vendor: TestEngine;
  let site: TestEngine;
  let fresh: TestEngine;
  const dir = mkdtempSync('/tmp/lw-release-');
  const compose = path.join(dir, 'docker-compose.yml');
  const env100 = path.join(dir, '.env.1.0.0');
  const env101 = path.join(dir, '.env.1.0.1');
  const siteEnv = path.join(dir, 'site', '.env');
  const bundleFile = path.join(dir, 'release-1.0.1.lwb');
  const saveSizes: number[] = [];

  beforeAll(async () => {
    [vendor, site, fresh] = await Promise.all([startEngine('vendor'), startEngine('site'), startEngine('fresh')]);
    await loadBusybox(vendor);
    // The shared base: busybox plus "runtime" content every service uses.
    const baseCtx = path.join(dir, 'base');
    mkdirSync(baseCtx, { recursive: true });
    writeFileSync(path.join(baseCtx, 'Dockerfile'), 'FROM lwtest/busybox:1\nRUN mkdir -p /opt/runtime && dd if=/dev/urandom of=/opt/runtime/lib.so bs=1024 count=768 2>/dev/null && echo runtime > /opt/runtime/VERSION\n');
    expect((await vendor.docker(['build', '-q', '-t', 'lwtest/base:1', baseCtx])).code).toBe(0);
    for (const s of SERVICES) {
      for (const [version, changed] of [['1.0.0', false], ['1.0.1', s !== 'worker']] as const) {
        const b = await vendor.docker(['build', '-q', '-t', `lwtest/${s}:${version}`, context(dir, s, version, changed)]);
        expect(b.code, b.stderr).toBe(0);
      }
    }
    writeFileSync(compose, `services:\n${SERVICES.map((s) => `  ${s}:\n    image: lwtest/${s}:\${TAG}\n    network_mode: none\n`).join('')}`);
    writeFileSync(env100, 'TAG=1.0.0\n');
    writeFileSync(env101, 'TAG=1.0.1\n');
    // The site runs release 1.0.0 (and has no network: images arrive as files).
    const tar = path.join(dir, 'release-1.0.0.tar');
    expect((await vendor.docker(['save', '-o', tar, ...SERVICES.map((s) => `lwtest/${s}:1.0.0`)])).code).toBe(0);
    expect((await site.docker(['load', '-i', tar])).code).toBe(0);
    mkdirSync(path.join(dir, 'site'));
    writeFileSync(siteEnv, '# site settings\nTAG=1.0.0\nLOG_LEVEL=info\n');
    for (const s of SERVICES) {
      const t = path.join(dir, `${s}-1.0.1.tar`);
      await vendor.docker(['save', '-o', t, `lwtest/${s}:1.0.1`]);
      saveSizes.push(statSync(t).size);
    }
  });

  afterAll(async () => {
    await Promise.all([vendor?.stop(), site?.stop(), fresh?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('estimates, creates, applies: the site runs the new code with the vendor image IDs', async () => {
    let r = await layerwise(['bundle', 'create', '--dry-run', '--json', '-o', bundleFile, '--compose', compose, '--from-env', env100, '--to-env', env101], { env: { DOCKER_HOST: vendor.host } });
    expect(r.code, r.stderr).toBe(0);
    const est = JSON.parse(r.stdout) as { images: { services: string[]; newLayers: number; unchanged: boolean }[] };
    expect(est.images.map((i) => [i.services[0], i.newLayers, i.unchanged])).toEqual([['frontend', 2, false], ['backend', 2, false], ['worker', 0, true]]);

    r = await layerwise(['bundle', 'create', '-q', '-o', bundleFile, '--compose', compose, '--from-env', env100, '--to-env', env101], { env: { DOCKER_HOST: vendor.host } });
    expect(r.code, r.stderr).toBe(0);
    const bundleBytes = statSync(bundleFile).size;
    const saveTotal = saveSizes.reduce((a, b) => a + b, 0);
    console.log(`release bundle: ${bundleBytes} bytes; full docker save of the three new images: ${saveTotal} bytes (${(saveTotal / bundleBytes).toFixed(0)}x)`);
    expect(bundleBytes * 20).toBeLessThan(saveTotal);

    r = await layerwise(['bundle', 'apply', '--json', bundleFile, '--to', 'docker-daemon', '--env-file', siteEnv], { env: { DOCKER_HOST: site.host } });
    expect(r.code, r.stderr).toBe(0);
    const applied = JSON.parse(r.stdout) as { images: { services: string[]; load: { path: string } }[] };
    // The site engine (classic graphdriver store) already had the lower layers: only missing ones went.
    expect(applied.images.every((i) => i.load.path === 'missing-layers')).toBe(true);
    expect(readFileSync(siteEnv, 'utf8')).toBe('# site settings\nTAG=1.0.1\nLOG_LEVEL=info\n');

    for (const s of SERVICES) {
      const out = await site.docker(['run', '--rm', '--network', 'none', `lwtest/${s}:1.0.1`]);
      expect(out.stdout.trim(), out.stderr).toBe(`${s} code ${s === 'worker' ? '1.0.0' : '1.0.1'}`);
      const a = await vendor.client.inspectImage(`lwtest/${s}:1.0.1`);
      const b = await site.client.inspectImage(`lwtest/${s}:1.0.1`);
      expect(b!.Id).toBe(a!.Id);
    }
  });

  it('loads complete archives into an engine that has none of the layers (the full path)', async () => {
    const tar = path.join(dir, 'frontend-1.0.1.tar');
    const r = await layerwise(['copy', `docker-archive:${tar}`, 'docker-daemon:lwtest/frontend:1.0.1'], { env: { DOCKER_HOST: fresh.host } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('full archive');
    const out = await fresh.docker(['run', '--rm', '--network', 'none', 'lwtest/frontend:1.0.1']);
    expect(out.stdout.trim()).toBe('frontend code 1.0.1');
  });

  it('an image the site lacks: names the service and image, and loads nothing', async () => {
    // A site that lost backend 1.0.0: the bundle cannot rebuild backend, so nothing is loaded at all.
    const partial = await startEngine('partial');
    try {
      const tar = path.join(dir, 'partial.tar');
      await vendor.docker(['save', '-o', tar, 'lwtest/frontend:1.0.0', 'lwtest/worker:1.0.0']);
      await partial.docker(['load', '-i', tar]);
      const r = await layerwise(['bundle', 'apply', bundleFile, '--to', 'docker-daemon'], { env: { DOCKER_HOST: partial.host } });
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/backend/);
      expect(r.stderr).toMatch(/\[(IMAGE_NOT_FOUND|PATCH_BASE_MISSING)\]/);
      for (const s of SERVICES) expect(await partial.client.inspectImage(`lwtest/${s}:1.0.1`)).toBeUndefined();
    } finally {
      await partial.stop();
    }
  });

  it('a broken compose file and a missing variable fail clearly, naming the service', async () => {
    const broken = path.join(dir, 'broken.yml');
    writeFileSync(broken, 'services:\n  frontend: [\n');
    let r = await layerwise(['bundle', 'create', '-o', path.join(dir, 'x.lwb'), '--compose', broken, '--from-env', env100, '--to-env', env101]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[COMPOSE_INVALID]');
    const noTag = path.join(dir, '.env.empty');
    writeFileSync(noTag, 'OTHER=1\n');
    r = await layerwise(['bundle', 'create', '-o', path.join(dir, 'x.lwb'), '--compose', compose, '--from-env', env100, '--to-env', noTag]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[COMPOSE_VARIABLE_MISSING]');
    expect(r.stderr).toContain('service frontend');
    copyFileSync(env100, path.join(dir, 'unused'));
  });
});
