import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { EngineClient } from '../../src/transports/docker-daemon/engine.js';
import { loadIntoDaemon } from '../../src/transports/docker-daemon/daemon.js';
import { imageFromDirectory } from '../../src/testing/images.js';
import { dockerCli } from './tools.js';
import { run, type RunResult } from './run.js';

export interface TestEngine {
  /** DOCKER_HOST value for this engine. */
  host: string;
  dir: string;
  pid: number;
  client: EngineClient;
  docker(args: string[], opts?: { input?: Buffer | string; cwd?: string }): Promise<RunResult>;
  stop(): Promise<void>;
}

/**
 * Starts a private dockerd (vfs storage, no iptables, no bridge) with its own socket, data-root and
 * exec-root under a short /tmp dir (unix socket paths are limited to 108 bytes). Stop it by its PID.
 */
export async function startEngine(label = 'eng'): Promise<TestEngine> {
  const dir = mkdtempSync(`/tmp/lw-${label}-`);
  const sock = path.join(dir, 'd.sock');
  const host = `unix://${sock}`;
  const log = openSync(path.join(dir, 'dockerd.log'), 'a');
  const child = spawn(
    'dockerd',
    [
      '--storage-driver', 'vfs', '--iptables=false', '--ip-masq=false', '--bridge=none', '--userland-proxy=false',
      '--host', host, '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'x'),
      '--pidfile', path.join(dir, 'd.pid'), '--log-level', 'warn',
    ],
    { stdio: ['ignore', log, log], detached: true },
  );
  const pid = child.pid!;
  child.unref();
  const client = new EngineClient(host);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await client.version();
      break;
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
        throw new Error(`dockerd did not start (see ${dir}/dockerd.log): ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const docker = (args: string[], opts: { input?: Buffer | string; cwd?: string } = {}) =>
    run(dockerCli(), args, { ...opts, env: { DOCKER_HOST: host, DOCKER_BUILDKIT: '0', DOCKER_CLI_HINTS: 'false' }, timeoutMs: 300_000 });
  const stop = async () => {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 100));
      } catch {
        break;
      }
    }
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    await run('sh', ['-c', `umount -R ${dir}/data 2>/dev/null; umount -R ${dir}/x 2>/dev/null; true`]);
    rmSync(dir, { recursive: true, force: true });
  };
  return { host, dir, pid, client, docker, stop };
}

const BUSYBOX_APPLETS = ['sh', 'echo', 'cat', 'ls', 'true', 'false', 'test', 'mkdir', 'rm', 'cp', 'mv', 'sleep', 'env', 'grep', 'sed', 'wc', 'head', 'tail', 'sha256sum', 'find', 'chmod', 'touch', 'printf', 'dd', 'tr', 'sort', 'uniq', 'ln', 'id', 'stat', 'du'];

/** A root filesystem with Debian's busybox-static and its applets: a base image of about 2 MB. */
export function busyboxRootfs(): string {
  const root = mkdtempSync('/tmp/lw-busybox-');
  mkdirSync(path.join(root, 'bin'));
  mkdirSync(path.join(root, 'tmp'));
  mkdirSync(path.join(root, 'etc'));
  copyFileSync('/bin/busybox', path.join(root, 'bin', 'busybox'));
  chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  for (const a of BUSYBOX_APPLETS) symlinkSync('busybox', path.join(root, 'bin', a));
  return root;
}

/** Loads the busybox base into an engine under `tag` (made by layerwise itself, no registry needed). */
export async function loadBusybox(engine: TestEngine, tag = 'lwtest/busybox:1'): Promise<void> {
  const root = busyboxRootfs();
  try {
    const image = await imageFromDirectory(root, { compression: 'none', family: 'docker', cmd: ['/bin/sh'] });
    await loadIntoDaemon([{ image, tags: [tag] }], { dockerHost: engine.host });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
