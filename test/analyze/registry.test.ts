import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyzeReport } from '../../src/analyze/report.js';
import { writeImage } from '../../src/transports/index.js';
import { haveRegistry, startRegistry, type TestRegistry } from '../support/registry.js';
import { layerwise } from '../support/run.js';
import { file, image, whiteout } from './fixtures.js';

const enabled = haveRegistry();

describe.runIf(enabled)('analyze an image straight from a registry (docker://)', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ label: 'anl' });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('reads the layers over HTTP with the same exact figures', async () => {
    const img = image([
      { step: 'RUN make', entries: [file('out/big', 40_000), file('bin/app', 9_000)] },
      { step: 'RUN rm -rf /out && apt-get update', entries: [whiteout('out'), file('var/lib/apt/lists/l', 12_345)] },
    ]);
    await writeImage(img, `docker://${reg.host}/lw/analyze:1`, { registry: { insecure: true } });
    const r = await layerwise(['analyze', '--insecure', `docker://${reg.host}/lw/analyze:1`, '--json', '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as AnalyzeReport;
    expect(report.manifestDigest).toBe(img.digest);
    expect(report.totals).toMatchObject({ storedBytes: 61_345, finalBytes: 21_345, wastedBytes: 40_000, junkBytes: 12_345 });
    expect(report.totals.compressedBytes).toBe(img.layers.reduce((a, l) => a + l.descriptor.size, 0));
    expect(report.findings.find((f) => f.rule === 'waste.deleted')).toMatchObject({ layer: 0, bytes: 40_000, paths: [{ path: '/out', bytes: 40_000 }] });
  });
});
