import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeImage } from '../../src/analyze/analyze.js';
import type { AnalyzeReport } from '../../src/analyze/report.js';
import { openImage } from '../../src/transports/index.js';
import { loadBusybox, startEngine, type TestEngine } from '../support/engine.js';
import { layerwise } from '../support/run.js';
import { haveEngine } from '../support/tools.js';

// Every size is distinct except the intended duplicate, so zero-filled files never look alike by accident.
const DOCKERFILE = [
  'FROM lwtest/busybox:1', // line 1
  'RUN mkdir -p /var/lib/apt/lists && dd if=/dev/zero of=/var/lib/apt/lists/deb_Packages bs=1000 count=42', // 2: layer 1, apt lists left
  'RUN dd if=/dev/zero of=/big.bin bs=1000 count=50', // 3: layer 2
  'RUN rm /big.bin', // 4: layer 3, deletes 50,000 bytes of layer 2
  'RUN dd if=/dev/zero of=/over.bin bs=1000 count=7', // 5: layer 4
  'RUN dd if=/dev/zero of=/over.bin bs=1000 count=9', // 6: layer 5, overwrites 7,000 bytes of layer 4
  'RUN mkdir -p /opt/dup && dd if=/dev/zero of=/opt/dup/a.bin bs=1000 count=13', // 7: layer 6
  'RUN mkdir -p /srv && cp /opt/dup/a.bin /srv/b.bin', // 8: layer 7, a duplicate copy
  'RUN mkdir -p /junkdir/sub && dd if=/dev/zero of=/junkdir/a bs=1000 count=3 && dd if=/dev/zero of=/junkdir/sub/b bs=1000 count=4', // 9: layer 8
  'RUN rm -rf /junkdir', // 10: layer 9, deletes a whole folder of 7,000 bytes
  'CMD ["sh"]',
  '',
].join('\n');

const enabled = haveEngine();

describe.runIf(enabled)('analyze images built by a real Docker engine', () => {
  let engine: TestEngine;
  let work: string;
  let archive: string;
  let busyboxBytes: number;

  beforeAll(async () => {
    engine = await startEngine('anl');
    work = mkdtempSync('/tmp/lw-anl-');
    await loadBusybox(engine);
    busyboxBytes = statSync('/bin/busybox').size;
    const ctx = path.join(work, 'ctx');
    await import('node:fs/promises').then((fs) => fs.mkdir(ctx));
    writeFileSync(path.join(ctx, 'Dockerfile'), DOCKERFILE);
    const build = await engine.docker(['build', '--network', 'none', '-t', 'lwtest/analyze:1', ctx]);
    if (build.code !== 0) throw new Error(`docker build failed: ${build.stderr}\n${build.stdout}`);
    archive = path.join(work, 'analyze.tar');
    const save = await engine.docker(['save', '-o', archive, 'lwtest/analyze:1']);
    if (save.code !== 0) throw new Error(`docker save failed: ${save.stderr}`);
  });

  afterAll(async () => {
    await engine?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  function checkExactBytes(r: AnalyzeReport): void {
    const base = busyboxBytes;
    expect(r.layers).toHaveLength(10);
    expect(r.totals.wastedBytes).toBe(50_000 + 7_000 + 7_000);
    expect(r.totals.storedBytes).toBe(base + 42_000 + 50_000 + 7_000 + 9_000 + 13_000 + 13_000 + 7_000);
    expect(r.totals.finalBytes).toBe(base + 42_000 + 9_000 + 13_000 + 13_000);
    expect(r.totals.efficiency).toBe(Math.round((1 - 64_000 / r.totals.storedBytes) * 1e6) / 1e6);

    const waste = (rule: string, layer: number) => r.findings.find((f) => f.rule === rule && f.layer === layer);
    const deletedFile = waste('waste.deleted', 2)!;
    expect(deletedFile).toMatchObject({ bytes: 50_000, savings: 50_000, paths: [{ path: '/big.bin', bytes: 50_000 }] });
    expect(deletedFile.hiddenBy!.layer).toBe(3);
    expect(deletedFile.step).toBe('RUN dd if=/dev/zero of=/big.bin bs=1000 count=50');
    const overwritten = waste('waste.overwritten', 4)!;
    expect(overwritten).toMatchObject({ bytes: 7_000, paths: [{ path: '/over.bin', bytes: 7_000 }] });
    expect(overwritten.hiddenBy!.layer).toBe(5);
    const folder = waste('waste.deleted', 8)!;
    expect(folder).toMatchObject({ bytes: 7_000, paths: [{ path: '/junkdir', bytes: 7_000 }] });
    expect(folder.hiddenBy!.layer).toBe(9);

    expect(r.layers[2]!.wastedBytes).toBe(50_000);
    expect(r.layers[3]!.removed).toEqual({ files: 1, bytes: 50_000 });
    expect(r.layers[5]!.modified).toEqual({ files: 1, bytes: 9_000 });
    expect(r.layers[9]!.removed).toEqual({ files: 2, bytes: 7_000 });
    expect(r.layers[9]!.changes.removed).toEqual([{ path: '/junkdir/sub/b', bytes: 4_000 }, { path: '/junkdir/a', bytes: 3_000 }]);
    expect(r.layers[5]!.changes.modified).toEqual([{ path: '/over.bin', bytes: 9_000 }]);
    expect(r.layers[7]!.changes.added.filter((p) => p.bytes > 0)).toEqual([{ path: '/srv/b.bin', bytes: 13_000 }]);

    const apt = r.findings.find((f) => f.rule === 'junk.apt-lists')!;
    expect(apt).toMatchObject({ layer: 1, bytes: 42_000, savings: 42_000, paths: [{ path: '/var/lib/apt/lists', bytes: 42_000 }] });
    expect(r.totals.junkBytes).toBe(42_000);

    expect(r.totals.duplicateBytes).toBe(13_000);
    const dup = r.duplicates.find((d) => d.size === 13_000)!;
    expect(dup.copies.map((c) => c.path).sort()).toEqual(['/opt/dup/a.bin', '/srv/b.bin']);
    expect(r.findings.find((f) => f.rule === 'duplicate')).toMatchObject({ layer: 7, bytes: 13_000, paths: [{ path: '/srv/b.bin', bytes: 13_000 }] });
  }

  it('reads the image from the engine (docker-daemon:) with exact byte counts', async () => {
    const img = await openImage('docker-daemon:lwtest/analyze:1', { dockerHost: engine.host });
    try {
      const { report } = await analyzeImage(img);
      checkExactBytes(report);
    } finally {
      await img.close();
    }
  });

  it('reads the docker save archive with the same counts, and attributes lines with --dockerfile (CLI)', async () => {
    const dockerfile = path.join(work, 'ctx', 'Dockerfile');
    const r = await layerwise(['analyze', `docker-archive:${archive}`, '--json', '--dockerfile', dockerfile, '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as AnalyzeReport;
    checkExactBytes(report);
    expect(report.layers.map((l) => l.line)).toEqual([undefined, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(report.findings.find((f) => f.rule === 'junk.apt-lists')!.line).toBe(2);
  });

  it('fails the CI gate with the reason, and passes when the thresholds allow the waste', async () => {
    writeFileSync(path.join(work, '.layerwise.yml'), 'lint:\n  ignore: [DL3008]\nanalyze:\n  highestWastedBytes: 60KB\n  lowestEfficiency: 0.5\n');
    const fail = await layerwise(['analyze', `docker-archive:${archive}`, '--ci', '-q'], { cwd: work });
    expect(fail.code).toBe(1);
    expect(fail.stderr).toContain('layerwise: CI threshold crossed: wasted bytes 64000 (64.0 KB) exceed highestWastedBytes 60000 (60.0 KB)');
    expect(fail.stdout).toContain('CI: FAIL');
    writeFileSync(path.join(work, '.layerwise.yml'), 'analyze:\n  highestWastedBytes: 60KB\n  ignore: ["/junkdir"]\n');
    const pass = await layerwise(['analyze', `docker-archive:${archive}`, '--ci', '--json', '-q'], { cwd: work });
    expect(pass.stderr).toBe('');
    expect(pass.code).toBe(0);
    const report = JSON.parse(pass.stdout) as AnalyzeReport & { ci: { pass: boolean } };
    expect(report.totals.wastedBytes).toBe(57_000);
    expect(report.ci.pass).toBe(true);
    expect(readFileSync(path.join(work, '.layerwise.yml'), 'utf8')).toContain('analyze:');
  });

  it('diffs the image against its base', async () => {
    const r = await layerwise(['diff', 'docker-daemon:lwtest/busybox:1', `docker-archive:${archive}`, '--json', '-q'], { env: { DOCKER_HOST: engine.host } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout) as { added: { path: string; size: number }[]; layers: { shared: boolean }[]; summary: { added: { bytes: number } } };
    const files = d.added.filter((f) => f.size > 0).map((f) => [f.path, f.size]);
    expect(files).toEqual([['/opt/dup/a.bin', 13_000], ['/over.bin', 9_000], ['/srv/b.bin', 13_000], ['/var/lib/apt/lists/deb_Packages', 42_000]]);
    expect(d.summary.added.bytes).toBe(77_000);
    expect(d.layers[0]!.shared).toBe(true);
    expect(d.layers.slice(1).every((l) => !l.shared)).toBe(true);
  });
});
