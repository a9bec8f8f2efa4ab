import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveEngine } from '../support/tools.js';
import { busyboxRootfs, startEngine, type TestEngine } from '../support/engine.js';
import { imageFromDirectory } from '../../src/testing/images.js';
import { openImage, writeImage } from '../../src/transports/index.js';
import { layerwise } from '../support/run.js';

const dir = mkdtempSync('/tmp/lw-build-');
let baseRef: string;

beforeAll(async () => {
  const root = busyboxRootfs();
  baseRef = `docker-archive:${path.join(dir, 'busybox.tar')}:lwtest/busybox:1`;
  await writeImage(await imageFromDirectory(root, { compression: 'none', family: 'docker', cmd: ['/bin/sh'] }), baseRef);
  rmSync(root, { recursive: true, force: true });
  const app = path.join(dir, 'backend');
  mkdirSync(path.join(app, 'lib'), { recursive: true });
  mkdirSync(path.join(app, '.git'), { recursive: true });
  writeFileSync(path.join(app, 'main.sh'), '#!/bin/sh\necho "backend v1"; ls /backend_app/lib\n', { mode: 0o755 });
  writeFileSync(path.join(app, 'lib', 'a.txt'), 'a\n');
  writeFileSync(path.join(app, 'lib', 'old.txt'), 'soon gone\n');
  writeFileSync(path.join(app, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(path.join(app, '.dockerignore'), '.git\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const build = (args: string[], env: NodeJS.ProcessEnv = {}) => layerwise(['build', '-q', '--base', baseRef, ...args], { env });

describe('layerwise build: base + folders, without docker build', () => {
  it('is reproducible: the same folder gives the same digest, whatever the files\' mtimes', async () => {
    const app = path.join(dir, 'backend');
    const args = ['--add', `${app}:/backend_app`, '--workdir', '/backend_app', '--cmd', '["/backend_app/main.sh"]', '--env', 'MODE=prod', '--label', 'release=1.0.0'];
    expect((await build([...args, '--to', `oci:${dir}/o1:t`], { SOURCE_DATE_EPOCH: '1700000000' })).code).toBe(0);
    utimesSync(path.join(app, 'lib', 'a.txt'), new Date(), new Date());
    expect((await build([...args, '--to', `oci:${dir}/o2:t`], { SOURCE_DATE_EPOCH: '1700000000' })).code).toBe(0);
    const [a, b] = [await openImage(`oci:${dir}/o1:t`), await openImage(`oci:${dir}/o2:t`)];
    expect(a.digest).toBe(b.digest);
    expect(a.id).toBe(b.id);
    const last = a.config.history!.at(-1)!;
    expect(last.created_by).toContain(`--add ${app}:/backend_app`);
    expect(last.created).toBe('2023-11-14T22:13:20Z');
    expect(a.config.config?.Env).toContain('MODE=prod');
    expect(a.config.config?.Labels).toEqual({ release: '1.0.0' });
    await a.close();
    await b.close();
  });

  describe.skipIf(!haveEngine())('with a real engine', () => {
    let engine: TestEngine;
    beforeAll(async () => {
      engine = await startEngine('build');
    });
    afterAll(async () => engine?.stop());

    it('loads and runs; .dockerignore is honoured; --replace removes files gone from the folder', async () => {
      const app = path.join(dir, 'backend');
      const v1 = `docker-archive:${dir}/v1.tar:lwtest/backend:1`;
      let r = await build(['--add', `${app}:/backend_app`, '--cmd', '["/backend_app/main.sh"]', '--to', v1]);
      expect(r.code, r.stderr).toBe(0);
      r = await layerwise(['copy', '-q', v1, 'docker-daemon:lwtest/backend:1'], { env: { DOCKER_HOST: engine.host } });
      expect(r.code, r.stderr).toBe(0);
      let out = await engine.docker(['run', '--rm', '--network', 'none', 'lwtest/backend:1']);
      expect(out.stdout).toBe('backend v1\na.txt\nold.txt\n');
      out = await engine.docker(['run', '--rm', '--network', 'none', 'lwtest/backend:1', 'ls', '-a', '/backend_app']);
      expect(out.stdout.split('\n')).not.toContain('.git');

      // The next version of the folder: old.txt removed, main.sh changed. Built on top of v1 with --replace.
      unlinkSync(path.join(app, 'lib', 'old.txt'));
      writeFileSync(path.join(app, 'main.sh'), '#!/bin/sh\necho "backend v2"; ls /backend_app/lib\n', { mode: 0o755 });
      r = await layerwise(['build', '--json', '--base', v1, '--add', `${app}:/backend_app`, '--replace', '--to', 'docker-daemon:lwtest/backend:2'], { env: { DOCKER_HOST: engine.host } });
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { layer: { whiteouts: number } }).layer.whiteouts).toBe(1);
      out = await engine.docker(['run', '--rm', '--network', 'none', 'lwtest/backend:2']);
      expect(out.stdout).toBe('backend v2\na.txt\n');
    });
  });
});
