import { describe, expect, it } from 'vitest';
import { imageFromEntries, seededBytes } from '../testing/images.js';
import type { MemoryEntry } from '../tar/writer.js';
import { analyseSharing } from './images.js';

const file = (p: string, data: Buffer): MemoryEntry => ({ path: p, type: 'file', mode: 0o644, data });
const base: MemoryEntry[] = [{ path: 'bin/', type: 'dir', mode: 0o755 }, file('bin/sh', seededBytes('sh', 3000))];
const pkg = seededBytes('libfoo', 5000);

describe('analyseSharing', () => {
  it('finds shared layers by diffID and identical content stored in different layers', async () => {
    const a = imageFromEntries([base, [file('usr/lib/libfoo.so', pkg), file('app/a.txt', Buffer.from('a'))]]);
    const b = imageFromEntries([base, [file('opt/venv/libfoo.so', pkg), file('app/b.txt', Buffer.from('b')), file('app/.wh.old', Buffer.alloc(0)), file('app/empty', Buffer.alloc(0))], [file('usr/lib/libfoo.so', pkg)]]);
    // The base layer again, but on another parent: same diffID, another chainID.
    const c = imageFromEntries([[file('etc/motd', Buffer.from('hi'))], base]);
    const r = await analyseSharing([{ name: 'a', image: a }, { name: 'b', image: b }, { name: 'c', image: c }]);

    expect(r.totals.images).toBe(3);
    expect(r.totals.layers).toBe(2 + 3 + 2);
    expect(r.totals.distinctLayers).toBe(5);
    expect(r.sharedLayers).toHaveLength(1);
    expect(r.sharedLayers[0]!.uses.map((u) => `${u.image}#${u.index}`)).toEqual(['a#0', 'b#0', 'c#1']);
    expect(r.sharedLayers[0]!.sameChain).toBe(false);

    // libfoo.so is in three distinct layers: a host running a, b and c downloads it three times.
    expect(r.duplicates).toHaveLength(1);
    expect(r.duplicates[0]).toMatchObject({ size: 5000, layers: 3, extraBytes: 2 * 5000 });
    expect(r.duplicates[0]!.copies.map((x) => `${x.image}#${x.layer}:${x.path}`)).toEqual(['a#1:/usr/lib/libfoo.so', 'b#1:/opt/venv/libfoo.so', 'b#2:/usr/lib/libfoo.so']);
    expect(r.totals.duplicateBytes).toBe(10000);
    expect(r.totals.duplicateGroups).toBe(1);
    // sh (3000) + libfoo (5000 x3) + a + b + motd; whiteouts and empty files are not content.
    expect(r.totals.fileBytes).toBe(3000 + 3 * 5000 + 1 + 1 + 2);
    expect(r.totals.contentBytes).toBe(3000 + 5000 + 1 + 1 + 2);

    const ab = r.pairs.find((p) => p.a === 'a' && p.b === 'b')!;
    expect(ab.sharedLayerBytes).toBe(a.layers[0]!.descriptor.size);
    expect(ab.sharedContentBytes).toBe(3000 + 5000);
    expect(r.pairs.find((p) => p.a === 'a' && p.b === 'c')!.sharedContentBytes).toBe(3000);
    expect(r.images.map((i) => i.layers.map((l) => l.tarSize > 0))).toEqual([[true, true], [true, true, true], [true, true]]);
  });

  it('lists at most `limit` groups, largest first, and counts them all', async () => {
    const layers = [0, 1, 2].map((i) => [file(`l${i}/big`, seededBytes('big', 4000)), file(`l${i}/small`, seededBytes('small', 100))]);
    const r = await analyseSharing([{ name: 'x', image: imageFromEntries(layers) }], { limit: 1 });
    expect(r.duplicates.map((d) => d.size)).toEqual([4000]);
    expect(r.totals.duplicateGroups).toBe(2);
    expect(r.totals.duplicateBytes).toBe(2 * 4000 + 2 * 100);
  });
});
