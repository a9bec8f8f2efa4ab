import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLayerwiseError } from '../../errors.js';
import { configPath, normalizeRegistryKey, parseCredsFlag, resolveCredentials } from './credentials.js';

const dir = mkdtempSync('/tmp/lw-creds-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, value: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('registry credentials', () => {
  it('parses --creds at the first colon (passwords may contain colons)', () => {
    expect(parseCredsFlag('u:p:a:ss')).toMatchObject({ kind: 'basic', username: 'u', password: 'p:a:ss' });
    for (const bad of ['nocolon', ':pass']) {
      let err: unknown;
      try {
        parseCredsFlag(bad);
      } catch (e) {
        err = e;
      }
      expect(isLayerwiseError(err, 'USAGE')).toBe(true);
    }
  });

  it('normalizes config.json keys: scheme, path, Docker Hub aliases', () => {
    expect(normalizeRegistryKey('https://index.docker.io/v1/')).toBe('docker.io');
    expect(normalizeRegistryKey('registry-1.docker.io')).toBe('docker.io');
    expect(normalizeRegistryKey('http://Localhost:5000/v2/')).toBe('localhost:5000');
    expect(normalizeRegistryKey('ghcr.io')).toBe('ghcr.io');
  });

  it('finds config.json under DOCKER_CONFIG, else ~/.docker', () => {
    expect(configPath({ env: { DOCKER_CONFIG: '/x' } })).toBe('/x/config.json');
    expect(configPath({ env: { HOME: '/home/u' } })).toBe('/home/u/.docker/config.json');
    expect(configPath({ authFile: '/a.json', env: { DOCKER_CONFIG: '/x' } })).toBe('/a.json');
  });

  it('reads auths entries: base64 auth, username/password, identity tokens; --creds wins', async () => {
    const file = config('auths.json', {
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hub:pw') },
        'reg.example.com:5000': { username: 'u2', password: 'p2' },
        'https://tok.example.com': { auth: b64('<token>:'), identitytoken: 'refresh-me' },
      },
    });
    expect(await resolveCredentials('docker.io', { authFile: file })).toMatchObject({ kind: 'basic', username: 'hub', password: 'pw' });
    expect(await resolveCredentials('reg.example.com:5000', { authFile: file })).toMatchObject({ username: 'u2', password: 'p2' });
    expect(await resolveCredentials('tok.example.com', { authFile: file })).toMatchObject({ kind: 'identity-token', token: 'refresh-me' });
    expect(await resolveCredentials('other.example.com', { authFile: file })).toBeUndefined();
    expect(await resolveCredentials('docker.io', { authFile: file, creds: 'flag:wins' })).toMatchObject({ username: 'flag', source: '--creds' });
    expect(await resolveCredentials('docker.io', { authFile: path.join(dir, 'missing.json') })).toBeUndefined();
  });

  it('reports a malformed config or auth value as REGISTRY_AUTH naming the file', async () => {
    const bad = config('bad.json', '{ not json');
    await expect(resolveCredentials('x.io', { authFile: bad })).rejects.toMatchObject({ code: 'REGISTRY_AUTH', message: expect.stringContaining('bad.json') });
    const badAuth = config('badauth.json', { auths: { 'x.io': { auth: b64('no-colon') } } });
    await expect(resolveCredentials('x.io', { authFile: badAuth })).rejects.toMatchObject({ code: 'REGISTRY_AUTH' });
  });

  it('runs credential helpers: credHelpers for the host over credsStore; "not found" means anonymous', async () => {
    const bin = path.join(dir, 'bin');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(bin, { recursive: true });
    const helper = (name: string, body: string) => {
      const f = path.join(bin, `docker-credential-${name}`);
      writeFileSync(f, `#!/bin/sh\n${body}\n`);
      chmodSync(f, 0o755);
    };
    helper('per-host', 'read s; printf \'{"ServerURL":"%s","Username":"host-user","Secret":"host-secret"}\' "$s"');
    helper('store', 'read s; if [ "$s" = "https://index.docker.io/v1/" ]; then echo \'{"Username":"<token>","Secret":"id-token"}\'; else echo "credentials not found in native keychain"; exit 1; fi');
    helper('broken', 'echo boom >&2; exit 3');
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const file = config('helpers.json', { credsStore: 'store', credHelpers: { 'private.example.com': 'per-host', 'broken.example.com': 'broken' }, auths: { 'fallback.example.com': { auth: b64('fb:pw') } } });
    expect(await resolveCredentials('private.example.com', { authFile: file, env })).toMatchObject({ kind: 'basic', username: 'host-user', password: 'host-secret' });
    expect(await resolveCredentials('docker.io', { authFile: file, env })).toMatchObject({ kind: 'identity-token', token: 'id-token' });
    expect(await resolveCredentials('nobody.example.com', { authFile: file, env })).toBeUndefined();
    expect(await resolveCredentials('fallback.example.com', { authFile: file, env })).toMatchObject({ username: 'fb' });
    await expect(resolveCredentials('broken.example.com', { authFile: file, env })).rejects.toMatchObject({ code: 'REGISTRY_AUTH', message: expect.stringContaining('boom') });
  });
});
