import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import { haveTool } from './tools.js';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

/** Whether the Debian registry (and the tools its tests use) are installed; skips loudly otherwise. */
export function haveRegistry(): boolean {
  return haveTool(REGISTRY_BIN, 'docker-registry');
}

/** A free TCP port on loopback (closed again before it is returned; the race is harmless here). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface RegistryAuth {
  htpasswd?: string;
  token?: { realm: string; service: string; issuer: string; rootcertbundle: string };
}

export interface TestRegistry {
  /** host:port, as it goes into docker://HOST/REPO. */
  host: string;
  port: number;
  dir: string;
  pid: number;
  scheme: 'http' | 'https';
  stop(): Promise<void>;
  log(): string;
}

/**
 * Starts /usr/bin/docker-registry on a free loopback port with its own storage and config, waits until
 * /v2/ answers, and stops it by PID.
 */
export async function startRegistry(opts: { auth?: RegistryAuth; tls?: { cert: string; key: string }; label?: string } = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(`/tmp/lw-reg-${opts.label ?? 'r'}-`);
  const port = await freePort();
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'warn', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: path.join(dir, 'data') }, delete: { enabled: true } },
    http: {
      addr: `127.0.0.1:${port}`,
      secret: 'layerwise-test-secret',
      ...(opts.tls ? { tls: { certificate: opts.tls.cert, key: opts.tls.key } } : {}),
    },
  };
  if (opts.auth?.htpasswd) config.auth = { htpasswd: { realm: 'layerwise-test', path: opts.auth.htpasswd } };
  if (opts.auth?.token) config.auth = { token: opts.auth.token };
  const configPath = path.join(dir, 'config.yml');
  writeFileSync(configPath, YAML.stringify(config));
  const logPath = path.join(dir, 'registry.log');
  const log = openSync(logPath, 'a');
  const child = spawn(REGISTRY_BIN, ['serve', configPath], { stdio: ['ignore', log, log], detached: true });
  const pid = child.pid!;
  child.unref();
  const scheme = opts.tls ? 'https' : 'http';
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (await answers(scheme, port)) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      throw new Error(`docker-registry did not start: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = async () => {
    await stopPid(pid);
    rmSync(dir, { recursive: true, force: true });
  };
  return { host: `127.0.0.1:${port}`, port, dir, pid, scheme, stop, log: () => readFileSync(logPath, 'utf8') };
}

export async function stopPid(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    try {
      process.kill(pid, 0);
      await new Promise((r) => setTimeout(r, 50));
    } catch {
      return;
    }
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

function answers(scheme: 'http' | 'https', port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const mod = scheme === 'https' ? https : http;
    const req = mod.get({ host: '127.0.0.1', port, path: '/v2/', rejectUnauthorized: false, agent: false }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(2000, () => req.destroy());
  });
}

/** An htpasswd file with one bcrypt entry (htpasswd -Bbn, as the registry requires bcrypt). */
export function htpasswdFile(dir: string, user: string, password: string): string {
  const line = execFileSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' }).trim();
  const file = path.join(dir, 'htpasswd');
  writeFileSync(file, line + '\n');
  return file;
}

/** A self-signed certificate for 127.0.0.1 (subjectAltName IP), RSA for TLS or EC P-256 for token signing. */
export function selfSignedCert(dir: string, name: string, kind: 'rsa' | 'ec' = 'rsa'): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const keyArgs = kind === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key };
}
