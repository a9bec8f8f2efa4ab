import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateImage } from '../../src/image/validate.js';
import type { Image } from '../../src/model/image.js';
import { randomImage } from '../../src/testing/images.js';
import { openImage, writeImage, type RegistryOptions } from '../../src/transports/index.js';
import { startFaultProxy, uploadedBytes } from '../support/fault-proxy.js';
import { haveRegistry, htpasswdFile, selfSignedCert, startRegistry, type TestRegistry } from '../support/registry.js';
import { layerwise } from '../support/run.js';
import { haveTool } from '../support/tools.js';
import { startTokenServer, type TokenServer } from '../support/token-server.js';

const enabled = haveRegistry() && haveTool('htpasswd', 'apache2-utils') && haveTool('openssl', 'openssl');
const work = mkdtempSync('/tmp/lw-regauth-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const identity = (img: Image) => ({ id: img.id, diffIds: img.layers.map((l) => l.diffId), digest: img.digest });

async function pushAndPull(ref: string, registry: RegistryOptions, seed: string): Promise<void> {
  const src = randomImage({ layers: 2, seed, fileSize: 3000 });
  const res = await writeImage(src, ref, { registry });
  expect(res.manifestDigest).toBe(src.digest);
  const img = await openImage(ref, { registry });
  try {
    expect(identity(img)).toEqual(identity(src));
    expect((await validateImage(img)).ok).toBe(true);
  } finally {
    await img.close();
  }
}

describe.skipIf(!enabled)('registry with htpasswd (Basic) auth', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(work, 'htpasswd-'));
    reg = await startRegistry({ label: 'basic', auth: { htpasswd: htpasswdFile(dir, 'alice', 's3cret:with:colons') } });
  });
  afterAll(async () => reg?.stop());

  it('pushes and pulls with --creds', async () => {
    await pushAndPull(`docker://${reg.host}/lw/basic:1`, { insecure: true, creds: 'alice:s3cret:with:colons', authFile: path.join(work, 'none.json') }, 'basic');
  });

  it('refuses anonymous access with REGISTRY_AUTH', async () => {
    await expect(openImage(`docker://${reg.host}/lw/basic:1`, { registry: { insecure: true, authFile: path.join(work, 'none.json') } })).rejects.toMatchObject({ code: 'REGISTRY_AUTH', message: expect.stringContaining('anonymous access refused') });
  });

  it('takes credentials from a docker config.json "auths" entry (DOCKER_CONFIG)', async () => {
    const cfgDir = path.join(work, 'docker-config-auths');
    mkdirSync(cfgDir, { recursive: true });
    const auth = Buffer.from('alice:s3cret:with:colons').toString('base64');
    writeFileSync(path.join(cfgDir, 'config.json'), JSON.stringify({ auths: { [`http://${reg.host}/v2/`]: { auth } } }));
    const r = await layerwise(['inspect', '--insecure', '--json', `docker://${reg.host}/lw/basic:1`], { env: { DOCKER_CONFIG: cfgDir } });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).layers).toHaveLength(2);
    const wrong = path.join(work, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('alice:nope').toString('base64') } } }));
    const w = await layerwise(['inspect', '--insecure', '--authfile', wrong, `docker://${reg.host}/lw/basic:1`]);
    expect(w.code).toBe(1);
    expect(w.stderr).toMatch(/^layerwise: .*authentication failed for user "alice" from .*wrong\.json.* \[REGISTRY_AUTH\]\n$/);
  });

  it('asks a credential helper (credHelpers, then credsStore) with the host on stdin', async () => {
    const bin = path.join(work, 'bin');
    mkdirSync(bin, { recursive: true });
    const asked = path.join(work, 'helper-asked.txt');
    const helper = path.join(bin, 'docker-credential-lwtest');
    writeFileSync(helper, `#!/bin/sh\n[ "$1" = get ] || exit 2\nread server\necho "$server" >> ${asked}\nprintf '{"ServerURL":"%s","Username":"alice","Secret":"s3cret:with:colons"}' "$server"\n`);
    chmodSync(helper, 0o755);
    for (const config of [{ credHelpers: { [reg.host]: 'lwtest' } }, { credsStore: 'lwtest' }]) {
      const cfgDir = mkdtempSync(path.join(work, 'cfg-'));
      writeFileSync(path.join(cfgDir, 'config.json'), JSON.stringify(config));
      rmSync(asked, { force: true });
      const r = await layerwise(['inspect', '--insecure', '--json', `docker://${reg.host}/lw/basic:1`], { env: { DOCKER_CONFIG: cfgDir, PATH: `${bin}:${process.env.PATH}` } });
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(asked, 'utf8').trim().split('\n')).toEqual([reg.host]);
    }
    const cfgDir = mkdtempSync(path.join(work, 'cfg-missing-'));
    writeFileSync(path.join(cfgDir, 'config.json'), JSON.stringify({ credsStore: 'not-installed-helper' }));
    const r = await layerwise(['inspect', '--insecure', `docker://${reg.host}/lw/basic:1`], { env: { DOCKER_CONFIG: cfgDir } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^layerwise: credential helper docker-credential-not-installed-helper is not on PATH.*\[REGISTRY_AUTH\]\n$/);
  });
});

describe.skipIf(!enabled)('registry with token (Bearer) auth and a token server in the test', () => {
  let reg: TestRegistry;
  let tokens: TokenServer;
  const creds = { insecure: true, creds: 'bob:hunter2' };
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(work, 'token-'));
    const signer = selfSignedCert(dir, 'lw-token-signer', 'ec');
    tokens = await startTokenServer({ cert: signer.cert, key: signer.key, users: { bob: 'hunter2' }, anonymousPull: true, refreshTokens: { 'bobs-identity-token': 'bob' } });
    reg = await startRegistry({ label: 'token', auth: { token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootcertbundle: signer.cert } } });
  });
  afterAll(async () => {
    await reg?.stop();
    await tokens?.close();
  });

  it('gets one token per scope set (cached, shared by parallel uploads) and pushes and pulls with it', async () => {
    const src = randomImage({ layers: 4, seed: 'token', fileSize: 3000 });
    const ref = `docker://${reg.host}/lw/tok:1`;
    let mark = tokens.requests.length;
    await writeImage(src, ref, { registry: creds });
    const pushTokens = tokens.requests.slice(mark);
    expect(pushTokens).toEqual([{ account: 'bob', authenticated: true, scopes: ['repository:lw/tok:pull,push'], service: tokens.service }]);
    mark = tokens.requests.length;
    const img = await openImage(ref, { registry: creds });
    try {
      expect(identity(img)).toEqual(identity(src));
      expect((await validateImage(img)).ok).toBe(true);
    } finally {
      await img.close();
    }
    expect(tokens.requests.slice(mark).map((r) => r.scopes)).toEqual([['repository:lw/tok:pull']]);
  });

  it('asks for the source repository pull scope when mounting across repositories', async () => {
    const proxy = await startFaultProxy(reg);
    try {
      const src = randomImage({ layers: 2, seed: 'token-mount', fileSize: 3000 });
      await writeImage(src, `docker://${proxy.host}/lw/tok-a:1`, { registry: creds });
      const from = await openImage(`docker://${proxy.host}/lw/tok-a:1`, { registry: creds });
      const mark = tokens.requests.length;
      const logMark = proxy.log.length;
      try {
        await writeImage(from, `docker://${proxy.host}/lw/tok-b:1`, { registry: creds });
      } finally {
        await from.close();
      }
      const scopes = tokens.requests.slice(mark).map((r) => r.scopes);
      expect(scopes).toContainEqual(['repository:lw/tok-b:pull,push', 'repository:lw/tok-a:pull']);
      const mounts = proxy.log.slice(logMark).filter((e) => e.url.includes('mount='));
      expect(mounts.map((e) => e.status)).toEqual([201, 201]);
      expect(uploadedBytes(proxy.log.slice(logMark))).toBe(src.configBytes.length);
    } finally {
      await proxy.close();
    }
  });

  it('pulls anonymously where the token server allows it, and refuses an anonymous push with REGISTRY_AUTH', async () => {
    const src = randomImage({ layers: 1, seed: 'token-anon' });
    await writeImage(src, `docker://${reg.host}/lw/tok-anon:1`, { registry: creds });
    const anon = { insecure: true, authFile: path.join(work, 'none.json') };
    const img = await openImage(`docker://${reg.host}/lw/tok-anon:1`, { registry: anon });
    expect(img.id).toBe(src.id);
    await img.close();
    await expect(writeImage(randomImage({ layers: 1, seed: 'token-anon-push' }), `docker://${reg.host}/lw/tok-anon:2`, { registry: anon })).rejects.toMatchObject({ code: 'REGISTRY_AUTH' });
  });

  it('uses an identity token from config.json as an OAuth2 refresh token (POST to the realm)', async () => {
    const file = path.join(work, 'identity.json');
    writeFileSync(file, JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('<token>:').toString('base64'), identitytoken: 'bobs-identity-token' } } }));
    const mark = tokens.requests.length;
    await pushAndPull(`docker://${reg.host}/lw/tok-identity:1`, { insecure: true, authFile: file }, 'identity');
    const used = tokens.requests.slice(mark);
    expect(used.length).toBeGreaterThan(0);
    expect(used.every((r) => r.grant === 'refresh_token' && r.account === 'bob' && r.authenticated)).toBe(true);
    writeFileSync(file, JSON.stringify({ auths: { [reg.host]: { identitytoken: 'revoked' } } }));
    await expect(openImage(`docker://${reg.host}/lw/tok-identity:1`, { registry: { insecure: true, authFile: file } })).rejects.toMatchObject({ code: 'REGISTRY_AUTH', message: expect.stringContaining('the identity token') });
  });

  it('reports a wrong password at the token server as REGISTRY_AUTH (CLI, one line)', async () => {
    const r = await layerwise(['inspect', '--insecure', '--creds', 'bob:wrong', `docker://${reg.host}/lw/tok:1`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^layerwise: .*authentication failed for user "bob" from --creds .*\[REGISTRY_AUTH\]\n$/);
    expect(tokens.requests.at(-1)).toMatchObject({ account: 'bob', authenticated: false });
  });
});

describe.skipIf(!enabled)('registry over TLS with a self-signed certificate', () => {
  let reg: TestRegistry;
  let ca: string;
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(work, 'tls-'));
    const tls = selfSignedCert(dir, 'lw-registry');
    ca = tls.cert;
    reg = await startRegistry({ label: 'tls', tls });
  });
  afterAll(async () => reg?.stop());

  it('works with --ca-file', async () => {
    await pushAndPull(`docker://${reg.host}/lw/tls:1`, { caFile: ca }, 'tls');
  });

  it('refuses the untrusted certificate without --ca-file (REGISTRY_TLS), and accepts it with --insecure', async () => {
    const r = await layerwise(['inspect', `docker://${reg.host}/lw/tls:1`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^layerwise: 127\.0\.0\.1:\d+: TLS certificate not trusted .*--ca-file.*\[REGISTRY_TLS\]\n$/);
    const ok = await layerwise(['inspect', '--insecure', '--json', `docker://${reg.host}/lw/tls:1`]);
    expect(ok.code, ok.stderr).toBe(0);
    const withCa = await layerwise(['inspect', '--ca-file', ca, '--json', `docker://${reg.host}/lw/tls:1`]);
    expect(withCa.code, withCa.stderr).toBe(0);
    expect(JSON.parse(withCa.stdout).imageId).toBe(JSON.parse(ok.stdout).imageId);
  });

  it('does not fall back to plain HTTP without --insecure', async () => {
    const plain = await startRegistry({ label: 'plain' });
    try {
      const r = await layerwise(['inspect', `docker://${plain.host}/lw/x:1`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^layerwise: .*TLS handshake failed.*--insecure.*\[REGISTRY_TLS\]\n$/);
    } finally {
      await plain.stop();
    }
  });
});
