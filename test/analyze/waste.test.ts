import { describe, expect, it } from 'vitest';
import { analyzeImage } from '../../src/analyze/analyze.js';
import { dir, file, image, opaque, whiteout } from './fixtures.js';

describe('waste: bytes in lower layers that upper layers hide', () => {
  it('counts an overwritten file once, not the copy that remains', async () => {
    const { report } = await analyzeImage(image([
      { step: '/bin/sh -c #(nop) COPY file:aa in /data', entries: [dir('data'), file('data/a.bin', 1000, 'v1')] },
      { step: '/bin/sh -c dd if=/dev/zero of=/data/a.bin bs=1000 count=3', entries: [dir('data'), file('data/a.bin', 3000, 'v2')] },
    ]));
    expect(report.totals.storedBytes).toBe(4000);
    expect(report.totals.finalBytes).toBe(3000);
    expect(report.totals.wastedBytes).toBe(1000);
    expect(report.totals.efficiency).toBe(0.75);
    expect(report.totals.wastedPercent).toBe(25);
    expect(report.layers[0]!.wastedBytes).toBe(1000);
    expect(report.layers[1]!.modified).toEqual({ files: 1, bytes: 3000 });
    expect(report.layers[1]!.changes).toEqual({ added: [], modified: [{ path: '/data/a.bin', bytes: 3000 }], removed: [] });
    expect(report.layers[0]!.changes.added).toEqual([{ path: '/data/a.bin', bytes: 1000 }]);
    const f = report.findings.find((x) => x.rule === 'waste.overwritten')!;
    expect(f.bytes).toBe(1000);
    expect(f.layer).toBe(0);
    expect(f.hiddenBy?.layer).toBe(1);
    expect(f.paths).toEqual([{ path: '/data/a.bin', bytes: 1000 }]);
    expect(f.title).toContain('RUN dd if=/dev/zero');
  });

  it('counts a file added and deleted later in full, and names both steps', async () => {
    const { report } = await analyzeImage(image([
      { step: '/bin/sh -c dd if=/dev/zero of=/big bs=1000 count=5', entries: [file('big', 5000), file('keep', 10)] },
      { step: '/bin/sh -c rm /big', entries: [whiteout('big')] },
    ]));
    expect(report.totals.wastedBytes).toBe(5000);
    expect(report.totals.finalBytes).toBe(10);
    expect(report.layers[1]!.removed).toEqual({ files: 1, bytes: 5000 });
    const f = report.findings.find((x) => x.rule === 'waste.deleted')!;
    expect(f.savings).toBe(5000);
    expect(f.title).toMatch(/RUN dd .*\(layer 0\) stores \/big .*RUN rm \/big \(layer 1\) deletes/);
    expect(f.fix).toMatch(/same RUN/);
  });

  it('counts every file of a deleted folder, reported under the folder', async () => {
    const { report } = await analyzeImage(image([
      { step: 'RUN make', entries: [dir('d'), file('d/x', 100), file('d/y', 200), dir('d/sub'), file('d/sub/z', 300), file('other', 7)] },
      { step: 'RUN rm -rf /d', entries: [whiteout('d')] },
    ]));
    expect(report.totals.wastedBytes).toBe(600);
    expect(report.layers[1]!.removed).toEqual({ files: 3, bytes: 600 });
    const f = report.findings.find((x) => x.rule === 'waste.deleted')!;
    expect(f.paths).toEqual([{ path: '/d', bytes: 600 }]);
  });

  it('applies an opaque whiteout to lower layers only', async () => {
    const { report, fs } = await analyzeImage(image([
      { step: 'RUN a', entries: [dir('d'), file('d/x', 100), file('d/y', 200)] },
      { step: 'RUN b', entries: [dir('d'), opaque('d'), file('d/new', 50)] },
    ]));
    expect(report.totals.wastedBytes).toBe(300);
    expect(report.totals.finalBytes).toBe(50);
    expect([...fs.root.children!.get('d')!.children!.keys()]).toEqual(['new']);
  });

  it('does not count content a hardlink keeps visible', async () => {
    const { report } = await analyzeImage(image([
      { step: 'RUN a', entries: [file('a', 400), { path: 'b', type: 'hardlink', linkpath: 'a', mode: 0o644 }] },
      { step: 'RUN rm a', entries: [whiteout('a')] },
    ]));
    expect(report.totals.wastedBytes).toBe(0);
    expect(report.totals.finalBytes).toBe(400);
  });

  it('calls an overwrite with identical content a rewrite (chmod, chown)', async () => {
    const { report } = await analyzeImage(image([
      { step: 'COPY app /app', entries: [file('app', 800, 'same')] },
      { step: 'RUN chmod 755 /app', entries: [{ ...file('app', 800, 'same'), mode: 0o755 }] },
    ]));
    expect(report.totals.wastedBytes).toBe(800);
    const f = report.findings.find((x) => x.rule === 'waste.rewritten')!;
    expect(f.bytes).toBe(800);
    expect(f.fix).toMatch(/--chmod/);
  });

  it('finds duplicates across layers and paths', async () => {
    const { report } = await analyzeImage(image([
      { step: 'COPY lib /lib', entries: [file('lib/a.so', 1000, 'same'), file('lib/b.so', 64, 'other')] },
      { step: 'RUN cp /lib/a.so /opt/a.so', entries: [file('opt/a.so', 1000, 'same')] },
    ]));
    expect(report.totals.wastedBytes).toBe(0);
    expect(report.totals.duplicateBytes).toBe(1000);
    expect(report.duplicates).toHaveLength(1);
    expect(report.duplicates[0]!.copies.map((c) => c.path).sort()).toEqual(['/lib/a.so', '/opt/a.so']);
    const f = report.findings.find((x) => x.rule === 'duplicate')!;
    expect(f.layer).toBe(1);
    expect(f.savings).toBe(1000);
  });

  it('leaves ignored paths out of waste', async () => {
    const { report } = await analyzeImage(image([
      { step: 'RUN a', entries: [file('cache/x', 900), file('y', 100)] },
      { step: 'RUN b', entries: [whiteout('cache'), whiteout('y')] },
    ]), { ignore: ['/cache/**'] });
    expect(report.totals.wastedBytes).toBe(100);
    expect(report.ignored).toEqual(['/cache/**']);
  });

  it('gives the figures of the worked example in docs/analyze.md', async () => {
    const { report } = await analyzeImage(image([
      { step: 'RUN dd if=/dev/zero of=/a bs=1000 count=100', entries: [file('a', 100_000, 'a1')] },
      { step: 'RUN dd if=/dev/zero of=/a bs=1000 count=120', entries: [file('a', 120_000, 'a2')] },
      { step: 'RUN dd if=/dev/zero of=/b bs=1000 count=50', entries: [file('b', 50_000)] },
      { step: 'RUN rm /b', entries: [whiteout('b')] },
    ]));
    expect(report.totals.storedBytes).toBe(270_000);
    expect(report.totals.wastedBytes).toBe(150_000);
    expect(report.totals.wastedPercent).toBe(55.5556);
    expect(report.totals.efficiency).toBe(0.444444);
  });
});
