import { describe, expect, it } from 'vitest';
import { diffImages } from '../../src/analyze/diff.js';
import { dir, file, image, whiteout } from './fixtures.js';

describe('diff', () => {
  it('lists added, removed and changed files and the size change per layer', async () => {
    const base = { step: 'base', entries: [dir('etc'), file('etc/os', 100), file('bin/sh', 1000)] };
    const a = image([base, { step: 'COPY app /app', entries: [file('app/main', 500, 'v1'), file('app/old', 70), file('app/same', 30)] }]);
    const b = image([
      base,
      { step: 'COPY app /app', entries: [file('app/main', 500, 'v2'), file('app/new', 90), file('app/same', 30)] },
      { step: 'RUN rm /etc/os', entries: [whiteout('etc/os')] },
    ]);
    const d = await diffImages(a, b);
    expect(d.added.map((f) => [f.path, f.size])).toEqual([['/app/new', 90]]);
    expect(d.removed.map((f) => [f.path, f.size]).sort()).toEqual([['/app/old', 70], ['/etc/os', 100]]);
    expect(d.changed).toEqual([{ path: '/app/main', what: ['content'], a: { type: 'file', size: 500, layer: 1 }, b: { type: 'file', size: 500, layer: 1 } }]);
    expect(d.summary.added).toEqual({ files: 1, bytes: 90 });
    expect(d.summary.removed).toEqual({ files: 2, bytes: 170 });
    expect(d.summary.finalBytesA).toBe(100 + 1000 + 500 + 70 + 30);
    expect(d.summary.finalBytesB).toBe(1000 + 500 + 90 + 30);
    expect(d.layers.map((l) => l.shared)).toEqual([true, false, false]);
    expect(d.layers[2]!.a).toBeUndefined();
    expect(d.layers[2]!.compressedDelta).toBe(b.layers[2]!.descriptor.size);
    expect(d.layers[1]!.tarDelta).toBe(d.layers[1]!.b!.tarBytes - d.layers[1]!.a!.tarBytes);
  });
});
