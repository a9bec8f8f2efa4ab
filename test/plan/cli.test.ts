import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layerwise } from '../support/run.js';
import { writeImage } from '../../src/transports/index.js';
import { imageFromEntries, seededBytes } from '../../src/testing/images.js';

const CORPUS = path.join(import.meta.dirname, 'corpus');
const dir = mkdtempSync('/tmp/lw-plan-cli-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const oneLineError = (stderr: string, code: string) => {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^layerwise: .+ \\[${code}\\]$`));
};

describe('layerwise plan (CLI)', () => {
  beforeAll(async () => {
    // Two images that store the same 5000-byte library in their own layers.
    const lib = seededBytes('lib', 5000);
    const base = [{ path: 'bin/', type: 'dir' as const, mode: 0o755 }, { path: 'bin/sh', type: 'file' as const, mode: 0o755, data: seededBytes('sh', 2000) }];
    const a = imageFromEntries([base, [{ path: 'usr/lib/libx.so', type: 'file', mode: 0o644, data: lib }]], { family: 'docker' });
    const b = imageFromEntries([base, [{ path: 'opt/libx.so', type: 'file', mode: 0o644, data: lib }]], { family: 'docker' });
    await writeImage(a, `docker-archive:${dir}/a.tar:img/a:1`);
    await writeImage(b, `docker-archive:${dir}/b.tar:img/b:1`);
  });

  it('prints the tree, writes Dockerfiles and HTML, and prints JSON', async () => {
    const out = path.join(dir, 'out');
    const html = path.join(dir, 'plan.html');
    const r = await layerwise(['plan', CORPUS, '--write', out, '--html', html]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Plan: 7 Dockerfiles, 4 base images, 7 Dockerfiles rewritten');
    expect(r.stdout).toContain('└─ layerwise/base-1-python-apt');
    expect(r.stdout).toMatch(/billing: pip install -r reads only requirements.txt/);
    expect(r.stdout).toContain(`Wrote 14 files to ${out}`);
    expect(readFileSync(path.join(out, 'services/api/Dockerfile'), 'utf8')).toContain('FROM layerwise/base-2-pip\n');
    expect(statSync(path.join(out, 'build.sh')).mode & 0o111).not.toBe(0);
    expect(readFileSync(html, 'utf8')).toMatch(/^<!doctype html>/);

    const j = await layerwise(['plan', CORPUS, '--json', '--prefix', 'acme', '--no-reorder']);
    expect(j.code, j.stderr).toBe(0);
    const report = JSON.parse(j.stdout);
    expect(report.kind).toBe('layerwise.plan');
    expect(report.plan.options).toEqual({ prefix: 'acme', minSteps: 1, minServices: 2, reorder: false });
    expect(report.plan.reorders).toEqual([]);
    // Without reordering, api's LABEL comes first and billing installs after COPY . .: less is shared.
    expect(report.plan.bases.map((b: { name: string; services: string[] }) => [b.name, b.services])).toEqual([
      ['acme/base-1-python-apt', ['billing', 'inference', 'scorer', 'worker']],
      ['acme/base-2-pip-model', ['inference', 'scorer']],
      ['acme/base-3-node-apt', ['frontend', 'notifier']],
    ]);
  });

  it('refuses to overwrite --write DIR unless --force, leaving it as it was', async () => {
    const out = path.join(dir, 'twice');
    expect((await layerwise(['plan', CORPUS, '--write', out])).code).toBe(0);
    writeFileSync(path.join(out, 'mine.txt'), 'keep');
    const again = await layerwise(['plan', CORPUS, '--write', out]);
    expect(again.code).toBe(1);
    oneLineError(again.stderr, 'DESTINATION_EXISTS');
    expect(readFileSync(path.join(out, 'mine.txt'), 'utf8')).toBe('keep');
    const forced = await layerwise(['plan', CORPUS, '--write', out, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(existsSync(path.join(out, 'mine.txt'))).toBe(false);
    expect(existsSync(path.join(out, 'services/worker/Dockerfile'))).toBe(true);
    expect(readdirSync(dir).filter((n) => n.includes('lw-tmp'))).toEqual([]);
  });

  it('fails with one line and a stable code, writing nothing, on bad input', async () => {
    const none = await layerwise(['plan']);
    expect(none.code).toBe(2);
    oneLineError(none.stderr, 'USAGE');
    const missing = await layerwise(['plan', path.join(dir, 'nope')]);
    expect(missing.code).toBe(1);
    oneLineError(missing.stderr, 'IO');
    mkdirSync(path.join(dir, 'nofrom'));
    writeFileSync(path.join(dir, 'nofrom', 'Dockerfile'), '# nothing here\nRUN true\n');
    const nofrom = await layerwise(['plan', path.join(dir, 'nofrom')]);
    oneLineError(nofrom.stderr, 'PLAN_INPUT_INVALID');
    const empty = await layerwise(['plan', CORPUS, '--min-steps', 'x']);
    expect(empty.code).toBe(2);
    oneLineError(empty.stderr, 'USAGE');

    writeFileSync(path.join(dir, 'bad.yaml'), 'hosts:\n  - services: [api, ghost]\n');
    const out = path.join(dir, 'never');
    const fleet = await layerwise(['plan', CORPUS, '--fleet', path.join(dir, 'bad.yaml'), '--write', out]);
    expect(fleet.code).toBe(1);
    oneLineError(fleet.stderr, 'FLEET_INVALID');
    expect(fleet.stderr).toContain('ghost');
    expect(existsSync(out)).toBe(false);

    const unbound = await layerwise(['plan', CORPUS, '--images', `ghost=docker-archive:${dir}/a.tar`]);
    oneLineError(unbound.stderr, 'PLAN_INPUT_INVALID');
  });

  it('reports what images share and the content they store twice', async () => {
    const r = await layerwise(['plan', '--images', `a=docker-archive:${dir}/a.tar`, `b=docker-archive:${dir}/b.tar`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Images: 2, 4 layers, 3 distinct');
    expect(r.stdout).toContain('identical content in different layers: 1 file, 5.00 KB downloaded more than once');
    expect(r.stdout).toContain('a#1:/usr/lib/libx.so  b#1:/opt/libx.so');

    writeFileSync(path.join(dir, 'fleet.yaml'), 'hosts:\n  - {count: 2, services: [a, b]}\n');
    const j = await layerwise(['plan', '--json', '--fleet', path.join(dir, 'fleet.yaml'), '--images', `a=docker-archive:${dir}/a.tar`, `b=docker-archive:${dir}/b.tar`]);
    const report = JSON.parse(j.stdout);
    expect(report.plan).toBeUndefined();
    expect(report.sharing.totals.duplicateBytes).toBe(5000);
    const layerSizes = report.sharing.images.flatMap((i: { layers: { size: number }[] }) => i.layers.map((l) => l.size));
    // Two hosts pull the shared base layer once each and both libraries' layers.
    expect(report.current.coldPull).toBe(2 * (layerSizes[0] + layerSizes[1] + layerSizes[3]));
    expect(report.current.registry).toBe(layerSizes[0] + layerSizes[1] + layerSizes[3]);
  });
});
