import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateGate, parseByteSize, parseLayerwiseYaml } from '../../src/analyze/gate.js';
import type { AnalyzeReport } from '../../src/analyze/report.js';
import { seededBytes } from '../../src/testing/images.js';
import { writeImage } from '../../src/transports/index.js';
import { layerwise } from '../support/run.js';
import { dir, file, image, text, whiteout } from './fixtures.js';

const work = mkdtempSync('/tmp/lw-anl-cli-');
const archive = path.join(work, 'app.tar');
const archive2 = path.join(work, 'app2.tar');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const status0 = 'Package: libc6\nStatus: install ok installed\nVersion: 2.36\n';
const wasted = 5000 + Buffer.byteLength(status0);
const status = 'Package: gcc-12\nStatus: install ok installed\nVersion: 12.2.0\n\nPackage: libc6\nStatus: install ok installed\nVersion: 2.36\n';
const layers = [
  { step: '/bin/sh -c #(nop) ADD file:base in / ', entries: [dir('bin'), file('bin/sh', 9000), file('lib/libc.so.6', 20_000), text('var/lib/dpkg/status', status0), text('var/lib/dpkg/info/libc6.list', '/lib/libc.so.6\n')] },
  { step: '/bin/sh -c apt-get update && apt-get install -y gcc-12', entries: [file('var/lib/apt/lists/x_Packages', 42_000), file('usr/lib/gcc/x86_64-linux-gnu/12/cc1', 30_000), text('var/lib/dpkg/status', status), text('var/lib/dpkg/info/gcc-12.list', '/usr/lib/gcc/x86_64-linux-gnu/12/cc1\n'), file('tmp/t.o', 5000)] },
  { step: '/bin/sh -c rm /tmp/t.o', entries: [whiteout('tmp/t.o')] },
  { step: 'COPY . /app # buildkit', entries: [file('app/index.js', 700), file('app/.git/pack', 3000), text('app/node_modules/left-pad/package.json', '{"name":"left-pad","version":"1.3.0"}'), file('app/node_modules/left-pad/index.js', 400), file('app/copy.so', 20_000, 'lib/libc.so.6')] },
];

beforeAll(async () => {
  await writeImage(image(layers), `docker-archive:${archive}:app:1`);
  await writeImage(image([layers[0]!, { step: 'RUN echo', entries: [file('etc/motd', 10)] }]), `docker-archive:${archive2}:app:2`);
});

describe('layerwise analyze (CLI)', () => {
  it('prints JSON that matches docs/analyze-schema.json', async () => {
    const r = await layerwise(['analyze', `docker-archive:${archive}`, '--json', '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as AnalyzeReport;
    const schema = JSON.parse(readFileSync(new URL('../../docs/analyze-schema.json', import.meta.url), 'utf8'));
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    expect(validate(report) ? [] : validate.errors).toEqual([]);
    expect(new Set(report.findings.map((f) => f.kind))).toEqual(new Set(['waste', 'junk', 'toolchain', 'duplicate']));
    expect(new Set(report.packages.map((p) => p.ecosystem))).toEqual(new Set(['dpkg', 'npm']));
    // The schema is not a formality: a report with a stray field or a wrong type fails it.
    expect(validate({ ...report, extra: 1 })).toBe(false);
    expect(validate({ ...report, totals: { ...report.totals, wastedBytes: -1 } })).toBe(false);
  });

  it('gives the same figures for the same image in an OCI layout and an oci-archive', async () => {
    await writeImage(image(layers), `oci:${path.join(work, 'layout')}:v1`);
    await writeImage(image(layers), `oci-archive:${path.join(work, 'app.oci.tar')}:v1`);
    const totals = async (ref: string) => {
      const r = await layerwise(['analyze', ref, '--json', '-q']);
      expect(r.stderr).toBe('');
      return (JSON.parse(r.stdout) as AnalyzeReport).totals;
    };
    const fromArchive = await totals(`docker-archive:${archive}`);
    expect(fromArchive.wastedBytes).toBe(wasted);
    const strip = ({ compressedBytes: _c, ...t }: AnalyzeReport['totals']) => t;
    expect(strip(await totals(`oci:${path.join(work, 'layout')}:v1`))).toEqual(strip(fromArchive));
    expect(strip(await totals(`oci-archive:${path.join(work, 'app.oci.tar')}:v1`))).toEqual(strip(fromArchive));
  });

  it('prints a readable report without colour when stdout is not a terminal', async () => {
    const r = await layerwise(['analyze', `docker-archive:${archive}`, '-q']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/\x1b\[/);
    expect(r.stdout).toContain('RUN apt-get update && apt-get install -y gcc-12 (layer 1) leaves /var/lib/apt/lists (42.0 KB, apt package lists)');
    expect(r.stdout).toContain('COPY . /app (layer 3) brings /app/.git (3.00 KB, version-control metadata)');
    expect(r.stdout).toMatch(/leaves a build toolchain in the final image: gcc-12 \(30\.0 KB\)/);
    // /tmp/t.o (5,000 bytes) deleted, and layer 0's dpkg status (58 bytes) replaced by layer 1's.
    expect(wasted).toBe(5058);
    expect(r.stdout).toMatch(/Wasted\s+5.06 KB/);
  });

  it('writes a self-contained HTML report', async () => {
    const out = path.join(work, 'sub', 'report.html');
    const r = await layerwise(['analyze', `docker-archive:${archive}`, '--html', out, '-q']);
    expect(r.code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<svg id="treemap"');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(readdirSync(path.dirname(out))).toEqual(['report.html']);
  });

  it('refuses --ci without thresholds (usage) and a bad .layerwise.yml (one line, stable code)', async () => {
    const none = await layerwise(['analyze', `docker-archive:${archive}`, '--ci', '-q'], { cwd: work });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/\[USAGE\]\n$/);
    const bad = path.join(work, 'bad.yml');
    writeFileSync(bad, 'analyze:\n  highestWastedByte: 10MB\n');
    const r = await layerwise(['analyze', `docker-archive:${archive}`, '--ci', '--config', bad, '-q']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`layerwise: ${bad}: unknown key analyze.highestWastedByte (known: lowestEfficiency, highestWastedBytes, highestWastedPercent, ignore) [ANALYZE_CONFIG_INVALID]\n`);
    expect(r.stdout).toBe('');
  });

  it('gates on flags as well as the file', async () => {
    const fail = await layerwise(['analyze', `docker-archive:${archive}`, '--ci', '--highest-wasted-percent', '1', '-q'], { cwd: work });
    expect(fail.code).toBe(1);
    expect(fail.stderr).toMatch(/^layerwise: CI threshold crossed: wasted [0-9.]+% of stored bytes exceeds highestWastedPercent 1%\n$/);
    const pass = await layerwise(['analyze', `docker-archive:${archive}`, '--ci', '--highest-wasted-bytes', String(wasted), '-q'], { cwd: work });
    expect(pass.code).toBe(0);
    expect(pass.stdout).toContain(`CI: PASS (wasted bytes ${wasted} <= ${wasted})`);
    const over = await layerwise(['analyze', `docker-archive:${archive}`, '--ci', '--highest-wasted-bytes', String(wasted - 1), '-q'], { cwd: work });
    expect(over.code).toBe(1);
  });

  it('refuses a corrupted layer with one line and a stable code, writing no report', async () => {
    const bytes = readFileSync(archive);
    const needle = seededBytes('app/index.js', 700);
    const at = bytes.indexOf(needle);
    expect(at).toBeGreaterThan(0);
    bytes[at + 100] ^= 0xff;
    const bad = path.join(work, 'corrupt.tar');
    writeFileSync(bad, bytes);
    const html = path.join(work, 'corrupt.html');
    const r = await layerwise(['analyze', `docker-archive:${bad}`, '--html', html, '-q']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^layerwise: .*layer 3.* \[(DIGEST_MISMATCH|DIFFID_MISMATCH)\]\n$/);
    expect(existsSync(html)).toBe(false);
  });

  it('diffs two archives', async () => {
    const r = await layerwise(['diff', `docker-archive:${archive}`, `docker-archive:${archive2}`, '-q']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('+ /etc/motd  10 B');
    expect(r.stdout).toContain('- /var/lib/apt/lists/x_Packages  42.0 KB');
    expect(r.stdout).toMatch(/^0 .* shared /m);
  });
});

describe('gate config', () => {
  it('parses sizes and percentages, and reads only the analyze: key', () => {
    expect(parseByteSize('20MB', 'x')).toBe(20_000_000);
    expect(parseByteSize('1.5GiB', 'x')).toBe(1.5 * 1024 ** 3);
    expect(parseByteSize(123, 'x')).toBe(123);
    expect(() => parseByteSize('lots', 'x')).toThrow(/not a size/);
    const cfg = parseLayerwiseYaml('lint:\n  rules: {}\nanalyze:\n  lowestEfficiency: "95%"\n  highestWastedPercent: 10%\n  ignore: ["/var/cache/**"]\n', 'f.yml');
    expect(cfg).toEqual({ lowestEfficiency: 0.95, highestWastedPercent: 10, ignore: ['/var/cache/**'] });
    expect(parseLayerwiseYaml('lint:\n  x: 1\n', 'f.yml')).toEqual({ ignore: [] });
    expect(() => parseLayerwiseYaml('analyze: [1', 'f.yml')).toThrow(/not valid YAML/);
    expect(() => parseLayerwiseYaml('analyze:\n  lowestEfficiency: 2\n', 'f.yml')).toThrow(/from 0 to 1/);
  });

  it('reports each crossed threshold', () => {
    const totals = { efficiency: 0.9, wastedBytes: 2_000_000, wastedPercent: 10 } as AnalyzeReport['totals'];
    const r = evaluateGate({ totals } as AnalyzeReport, { lowestEfficiency: 0.95, highestWastedBytes: 1_000_000, highestWastedPercent: 20, ignore: [] });
    expect(r.pass).toBe(false);
    expect(r.failures).toEqual([
      'efficiency 0.9000 is below lowestEfficiency 0.95',
      'wasted bytes 2000000 (2.00 MB) exceed highestWastedBytes 1000000 (1.00 MB)',
    ]);
    expect(evaluateGate({ totals } as AnalyzeReport, { highestWastedPercent: 10, ignore: [] }).pass).toBe(true);
  });
});

