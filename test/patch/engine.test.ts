import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveEngine } from '../support/tools.js';
import { loadBusybox, startEngine, type TestEngine } from '../support/engine.js';
import { layerwise } from '../support/run.js';

const enabled = haveEngine();

/** A small service: several "modules" of code-like text and a start script that prints its version. */
function writeRelease(ctx: string, version: string, extraFix: boolean) {
  mkdirSync(path.join(ctx, 'app/lib'), { recursive: true });
  for (let i = 0; i < 12; i++) {
    let body = Array.from({ length: 400 }, (_, l) => `export function f${i}_${l}(x) { return x * ${l} + ${i}; }`).join('\n');
    if (extraFix && i % 4 === 0) body = body.replace(`f${i}_17(x) { return x * 17`, `f${i}_17(x) { return x * 17 /* fixed */`);
    writeFileSync(path.join(ctx, `app/lib/mod${i}.js`), body + '\n');
  }
  writeFileSync(path.join(ctx, 'app/start.sh'), `#!/bin/sh\necho "service ${version}"\ncat /app/VERSION\n`);
  writeFileSync(path.join(ctx, 'app/VERSION'), `${version}\n`);
  writeFileSync(
    path.join(ctx, 'Dockerfile'),
    'FROM lwtest/busybox:1\nRUN mkdir -p /var/data && dd if=/dev/urandom of=/var/data/model.bin bs=1024 count=512 2>/dev/null\nCOPY app/ /app/\nRUN chmod +x /app/start.sh\nCMD ["/app/start.sh"]\n',
  );
}

describe.skipIf(!enabled)('patch end to end with real Docker engines', () => {
  let vendor: TestEngine;
  let site: TestEngine;
  const dir = mkdtempSync('/tmp/lw-patch-e2e-');

  beforeAll(async () => {
    [vendor, site] = await Promise.all([startEngine('vendor'), startEngine('site')]);
    await loadBusybox(vendor);
    const ctx1 = path.join(dir, 'ctx1');
    writeRelease(ctx1, '1.0.0', false);
    let b = await vendor.docker(['build', '-q', '-t', 'lwtest/svc:1.0.0', ctx1]);
    expect(b.code, b.stderr).toBe(0);
    // The next release: a code fix and a version bump, built from the same Dockerfile (the model is rebuilt too).
    const ctx2 = path.join(dir, 'ctx2');
    writeRelease(ctx2, '1.0.1', true);
    b = await vendor.docker(['build', '-q', '-t', 'lwtest/svc:1.0.1', ctx2]);
    expect(b.code, b.stderr).toBe(0);
    // The site has release 1.0.0 only.
    const tar = path.join(dir, 'svc-1.0.0.tar');
    expect((await vendor.docker(['save', '-o', tar, 'lwtest/svc:1.0.0'])).code).toBe(0);
    expect((await site.docker(['load', '-i', tar])).code).toBe(0);
  });

  afterAll(async () => {
    await Promise.all([vendor?.stop(), site?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the patch from docker-daemon:, applies it into another engine, and the new release runs with the same image ID', async () => {
    const patch = path.join(dir, 'update.lwp');
    let r = await layerwise(['patch', 'create', '-q', '--from', 'docker-daemon:lwtest/svc:1.0.0', '--to', 'docker-daemon:lwtest/svc:1.0.1', '-o', patch], { env: { DOCKER_HOST: vendor.host } });
    expect(r.code, r.stderr).toBe(0);
    r = await layerwise(['patch', 'inspect', '--json', patch]);
    const info = JSON.parse(r.stdout) as { bytes: number; targets: { layers: { source: string }[] }[] };
    // The random model layer is rebuilt with new random bytes, so the patch carries it: about 512 KB plus a few KB.
    expect(info.bytes).toBeLessThan(600_000);
    expect(info.targets[0]!.layers.filter((l) => l.source === 'reused').length).toBeGreaterThanOrEqual(1);

    r = await layerwise(['patch', 'apply', '-q', patch, '--from', 'docker-daemon:lwtest/svc:1.0.0', '--to', 'docker-daemon:lwtest/svc:1.0.1'], { env: { DOCKER_HOST: site.host } });
    expect(r.code, r.stderr).toBe(0);
    const run = await site.docker(['run', '--rm', '--network', 'none', 'lwtest/svc:1.0.1']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('service 1.0.1\n1.0.1\n');
    const a = await vendor.client.inspectImage('lwtest/svc:1.0.1');
    const b = await site.client.inspectImage('lwtest/svc:1.0.1');
    expect(b!.Id).toBe(a!.Id);
    expect(b!.RootFS!.Layers).toEqual(a!.RootFS!.Layers);
  });
});
