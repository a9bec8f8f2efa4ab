import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LayerwiseError } from '../../errors.js';

/** What a registry login is: a user name and password, or an identity (refresh) token from `docker login`. */
export type Credentials =
  | { kind: 'basic'; username: string; password: string; source: string }
  | { kind: 'identity-token'; token: string; source: string };

export interface CredentialOptions {
  /** --creds USER:PASSWORD; wins over everything else. */
  creds?: string;
  /** A docker config.json to read instead of $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
  authFile?: string;
  env?: NodeJS.ProcessEnv;
}

/** The key Docker Hub credentials are stored under, for historical reasons. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

export function parseCredsFlag(text: string): Credentials {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new LayerwiseError('USAGE', '--creds wants USER:PASSWORD');
  return { kind: 'basic', username: text.slice(0, colon), password: text.slice(colon + 1), source: '--creds' };
}

export function configPath(opts: CredentialOptions): string {
  if (opts.authFile) return opts.authFile;
  const env = opts.env ?? process.env;
  const dir = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
  return path.join(dir, 'config.json');
}

/** `https://host:5000/v1/` -> `host:5000`: config.json keys come with and without scheme and path. */
export function normalizeRegistryKey(key: string): string {
  let k = key.trim().replace(/^[a-z]+:\/\//i, '');
  const slash = k.indexOf('/');
  if (slash >= 0) k = k.slice(0, slash);
  k = k.toLowerCase();
  if (k === 'index.docker.io' || k === 'registry-1.docker.io' || k === 'registry.hub.docker.com') return 'docker.io';
  return k;
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

async function readConfig(file: string): Promise<DockerConfigFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LayerwiseError('REGISTRY_AUTH', `${file}: cannot read registry credentials (${(err as Error).message})`, { subject: file });
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as DockerConfigFile;
  } catch (err) {
    throw new LayerwiseError('REGISTRY_AUTH', `${file}: malformed docker config (${(err as Error).message})`, { subject: file });
  }
}

function fromAuthEntry(entry: NonNullable<DockerConfigFile['auths']>[string], source: string): Credentials | undefined {
  if (entry.identitytoken) return { kind: 'identity-token', token: entry.identitytoken, source };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new LayerwiseError('REGISTRY_AUTH', `${source}: "auth" is not base64 of USER:PASSWORD`, { subject: source });
    return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
  }
  if (entry.username && entry.password) return { kind: 'basic', username: entry.username, password: entry.password, source };
  return undefined;
}

/**
 * Runs `docker-credential-<helper> get` with the server name on stdin, as the docker CLI does.
 * "credentials not found" (exit 1 with that text) means no login, not an error.
 */
export function runCredentialHelper(helper: string, server: string, env?: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  const bin = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['get'], { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => {
      clearTimeout(timer);
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new LayerwiseError('REGISTRY_AUTH', missing ? `credential helper ${bin} is not on PATH (named in docker config)` : `credential helper ${bin}: ${e.message}`, { subject: bin }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8').trim();
      if (code !== 0) {
        const text = (stdout + ' ' + Buffer.concat(err).toString('utf8')).trim();
        if (/credentials not found/i.test(text)) resolve(undefined);
        else reject(new LayerwiseError('REGISTRY_AUTH', `credential helper ${bin} failed (exit ${code}): ${text.replace(/\s+/g, ' ').slice(0, 200)}`, { subject: bin }));
        return;
      }
      try {
        const v = JSON.parse(stdout) as { Username?: unknown; Secret?: unknown };
        if (typeof v.Username !== 'string' || typeof v.Secret !== 'string') throw new Error('no Username/Secret');
        const source = `credential helper ${bin}`;
        resolve(v.Username === '<token>' ? { kind: 'identity-token', token: v.Secret, source } : { kind: 'basic', username: v.Username, password: v.Secret, source });
      } catch (e) {
        reject(new LayerwiseError('REGISTRY_AUTH', `credential helper ${bin} printed unreadable output (${(e as Error).message})`, { subject: bin }));
      }
    });
    child.stdin.on('error', () => {});
    child.stdin.end(server);
  });
}

/**
 * Finds credentials for a registry the way the docker CLI does: --creds first; then config.json's
 * credHelpers entry for the host, else its credsStore, else its auths entry. Undefined means anonymous.
 */
export async function resolveCredentials(registry: string, opts: CredentialOptions = {}): Promise<Credentials | undefined> {
  if (opts.creds) return parseCredsFlag(opts.creds);
  const file = configPath(opts);
  const config = await readConfig(file);
  if (!config) return undefined;
  const host = normalizeRegistryKey(registry);
  const server = host === 'docker.io' ? DOCKER_HUB_KEY : host;
  const helperEntry = Object.entries(config.credHelpers ?? {}).find(([k]) => normalizeRegistryKey(k) === host);
  const helper = helperEntry?.[1] ?? (config.credsStore || undefined);
  if (helper) {
    const got = await runCredentialHelper(helper, server, opts.env);
    if (got) return got;
  }
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (normalizeRegistryKey(key) === host && entry && typeof entry === 'object') {
      const c = fromAuthEntry(entry, `${file} (auths["${key}"])`);
      if (c) return c;
    }
  }
  return undefined;
}
