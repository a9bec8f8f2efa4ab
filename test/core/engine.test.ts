import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openImage } from '../../src/transports/index.js';
import { haveEngine } from '../support/tools.js';
import { loadBusybox, startEngine, type TestEngine } from '../support/engine.js';
import { layerwise, run } from '../support/run.js';

const enabled = haveEngine();

describe.skipIf(!enabled)('Docker engine interop (real dockerd on a private socket)', () => {
  let engine: TestEngine;
  const dir = mkdtempSync('/tmp/lw-engine-test-');

  beforeAll(async () => {
    engine = await startEngine('core');
    await loadBusybox(engine);
    const ctx = path.join(dir, 'ctx');
    await run('mkdir', ['-p', ctx]);
    writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM lwtest/busybox:1\nRUN echo "hello from layer two" > /msg && mkdir -p /data && dd if=/dev/zero of=/data/blob bs=1024 count=64 2>/dev/null\nCOPY note.txt /note.txt\nCMD ["cat", "/msg", "/note.txt"]\n');
    writeFileSync(path.join(ctx, 'note.txt'), 'note v1\n');
    const b = await engine.docker(['build', '-q', '-t', 'lwtest/app:1', ctx]);
    expect(b.code, b.stderr).toBe(0);
  });

  afterAll(async () => {
    await engine?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads an image `docker save`d by the engine with identical digests', async () => {
    const tar = path.join(dir, 'saved.tar');
    const s = await engine.docker(['save', '-o', tar, 'lwtest/app:1']);
    expect(s.code, s.stderr).toBe(0);
    const inspected = await engine.client.inspectImage('lwtest/app:1');
    const img = await openImage(`docker-archive:${tar}`);
    try {
      expect(img.id).toBe(inspected!.Id);
      expect(img.layers.map((l) => l.diffId)).toEqual(inspected!.RootFS!.Layers);
      expect(img.names).toEqual(['lwtest/app:1']);
    } finally {
      await img.close();
    }
  });

  it('reads docker-daemon: through the engine API and writes archives the engine loads and runs', async () => {
    const oci = path.join(dir, 'oci');
    let r = await layerwise(['copy', '-q', 'docker-daemon:lwtest/app:1', `oci:${oci}:1`], { env: { DOCKER_HOST: engine.host } });
    expect(r.code, r.stderr).toBe(0);
    const archive = path.join(dir, 'out.tar');
    r = await layerwise(['copy', '-q', `oci:${oci}:1`, `docker-archive:${archive}:lwtest/copied:2`]);
    expect(r.code, r.stderr).toBe(0);
    const load = await engine.docker(['load', '-i', archive]);
    expect(load.code, load.stderr).toBe(0);
    const run1 = await engine.docker(['run', '--rm', '--network', 'none', 'lwtest/copied:2']);
    expect(run1.code, run1.stderr).toBe(0);
    expect(run1.stdout).toBe('hello from layer two\nnote v1\n');
    const a = await engine.client.inspectImage('lwtest/app:1');
    const b = await engine.client.inspectImage('lwtest/copied:2');
    expect(b!.Id).toBe(a!.Id);
  });

  it('loads into the engine with docker-daemon: as destination, no docker CLI involved', async () => {
    const archive = path.join(dir, 'for-load.tar');
    await engine.docker(['save', '-o', archive, 'lwtest/app:1']);
    const r = await layerwise(['copy', '-q', `docker-archive:${archive}`, 'docker-daemon:lwtest/loaded:3'], { env: { DOCKER_HOST: engine.host } });
    expect(r.code, r.stderr).toBe(0);
    const out = await engine.docker(['run', '--rm', '--network', 'none', 'lwtest/loaded:3']);
    expect(out.stdout).toBe('hello from layer two\nnote v1\n');
    expect((await engine.client.inspectImage('lwtest/loaded:3'))!.Id).toBe((await engine.client.inspectImage('lwtest/app:1'))!.Id);
  });

  it('names a missing engine image and an unreachable engine in one line', async () => {
    let r = await layerwise(['inspect', 'docker-daemon:lwtest/nope:1'], { env: { DOCKER_HOST: engine.host } });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('[IMAGE_NOT_FOUND]');
    r = await layerwise(['inspect', 'docker-daemon:lwtest/app:1'], { env: { DOCKER_HOST: `unix://${dir}/none.sock` } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[ENGINE_UNREACHABLE]');
  });
});

