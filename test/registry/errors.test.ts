import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomImage } from '../../src/testing/images.js';
import { openImage, writeImage } from '../../src/transports/index.js';
import { freePort, haveRegistry, htpasswdFile, startRegistry, type TestRegistry } from '../support/registry.js';
import { layerwise } from '../support/run.js';
import { haveTool } from '../support/tools.js';

const enabled = haveRegistry() && haveTool('htpasswd', 'apache2-utils');
const work = mkdtempSync('/tmp/lw-regerr-');
let plain: TestRegistry;
let basic: TestRegistry;
const noAuthFile = path.join(work, 'no-config.json');

beforeAll(async () => {
  if (!enabled) return;
  plain = await startRegistry({ label: 'err' });
  basic = await startRegistry({ label: 'errb', auth: { htpasswd: htpasswdFile(work, 'carol', 'right') } });
  await writeImage(randomImage({ layers: 1, seed: 'err' }), `docker://${plain.host}/lw/present:1`, { registry: { insecure: true } });
  await writeImage(randomImage({ layers: 1, seed: 'errb' }), `docker://${basic.host}/lw/present:1`, { registry: { insecure: true, creds: 'carol:right' } });
});
afterAll(async () => {
  await plain?.stop();
  await basic?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The CLI's contract for failures: nothing on stdout, exactly one line on stderr ending in [CODE], exit 1. */
async function failsWith(args: string[], code: string, text: RegExp): Promise<void> {
  const r = await layerwise(args, { env: { DOCKER_CONFIG: work } });
  expect(r.code, r.stderr).toBe(1);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('push '));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^layerwise: .* \\[${code}\\]$`));
  expect(lines[0]).toMatch(text);
}

describe.skipIf(!enabled)('registry errors: one line with a stable code, non-zero exit', () => {
  it('wrong password', async () => {
    await failsWith(['inspect', '--insecure', '--creds', 'carol:wrong', `docker://${basic.host}/lw/present:1`], 'REGISTRY_AUTH', /authentication failed for user "carol" from --creds/);
    await failsWith(['copy', '--insecure', '--creds', 'carol:wrong', `docker://${plain.host}/lw/present:1`, `docker://${basic.host}/lw/copy:1`], 'REGISTRY_AUTH', /authentication failed/);
  });

  it('unknown repository', async () => {
    await failsWith(['inspect', '--insecure', `docker://${plain.host}/no/such-repo:1`], 'REGISTRY_NOT_FOUND', /repository "no\/such-repo" not found/);
    await failsWith(['validate', '--insecure', `docker://${basic.host}/no/such-repo:1`, '--creds', 'carol:right'], 'REGISTRY_NOT_FOUND', /repository "no\/such-repo" not found/);
  });

  it('tag not found', async () => {
    await failsWith(['inspect', '--insecure', `docker://${plain.host}/lw/present:2`], 'REGISTRY_NOT_FOUND', /lw\/present: tag "2" not found \(tags: 1\)/);
    await failsWith(['inspect', '--insecure', `docker://${plain.host}/lw/present@sha256:${'0'.repeat(64)}`], 'REGISTRY_NOT_FOUND', /manifest sha256:0{64} not found/);
  });

  it('registry down (after bounded retries)', async () => {
    const port = await freePort();
    const started = Date.now();
    await failsWith(['inspect', '--insecure', `docker://127.0.0.1:${port}/lw/x:1`], 'REGISTRY_UNREACHABLE', new RegExp(`127\\.0\\.0\\.1:${port}: registry unreachable .*ECONNREFUSED`));
    expect(Date.now() - started).toBeLessThan(20_000);
    await failsWith(['copy', '--insecure', `docker://${plain.host}/lw/present:1`, `docker://127.0.0.1:${port}/lw/x:1`], 'REGISTRY_UNREACHABLE', /ECONNREFUSED/);
  });

  it('bad reference and bad --parallel are usage errors (exit 2)', async () => {
    const r = await layerwise(['inspect', 'docker://127.0.0.1:5000/UPPER/case:1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[REFERENCE_INVALID\]\n$/);
    const p = await layerwise(['copy', '--insecure', '--parallel', '0', `docker://${plain.host}/lw/present:1`, `docker://${plain.host}/lw/p:1`]);
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/--parallel 0: .*\[USAGE\]\n$/);
  });

  it('images from a registry close cleanly: no socket stays open, even after a half-read layer', async () => {
    const big = randomImage({ layers: 1, filesPerLayer: 4, fileSize: 1_000_000, seed: 'close', compression: 'none' });
    await writeImage(big, `docker://${plain.host}/lw/big:1`, { registry: { insecure: true } });
    const tcp = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const before = tcp();
    const img = await openImage(`docker://${plain.host}/lw/big:1`, { registry: { insecure: true, authFile: noAuthFile } });
    const stream = await img.layers[0]!.compressed();
    await new Promise<void>((resolve) => stream.once('readable', () => resolve()));
    stream.read(10);
    expect(tcp()).toBeGreaterThan(before);
    await img.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(tcp()).toBe(before);
    stream.destroy();
  });
});
