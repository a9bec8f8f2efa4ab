import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { lookup, mergeLayers, resolve, walk } from '../../src/analyze/overlay.js';
import { compileGlob, normalizeLayerPath } from '../../src/analyze/paths.js';
import { scanTarStream, type LayerScan } from '../../src/analyze/scan.js';
import { tarFromEntries, type MemoryEntry } from '../../src/tar/writer.js';
import { dir, file, opaque, whiteout } from './fixtures.js';

async function scans(layers: MemoryEntry[][]): Promise<LayerScan[]> {
  const out: LayerScan[] = [];
  for (let i = 0; i < layers.length; i++) out.push(await scanTarStream(Readable.from([tarFromEntries(layers[i]!)]), i, `layer ${i}`));
  return out;
}

const paths = (s: LayerScan[]) => [...walk(mergeLayers(s).root, '')].map(([p]) => p).filter((p) => p !== '').sort();

describe('scan and overlay', () => {
  it('normalises member names and decodes whiteouts', async () => {
    const [s] = await scans([[{ path: './', type: 'dir', mode: 0o755 }, { ...file('x', 3), path: './a//./x' }, whiteout('d/gone'), opaque('d')]]);
    expect(s!.entries.map((e) => [e.path, e.kind])).toEqual([['a/x', 'file'], ['d/gone', 'whiteout'], ['d', 'opaque']]);
    expect(s!.entries[0]!.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(normalizeLayerPath('/usr/./bin/')).toBe('usr/bin');
    expect(normalizeLayerPath('../../etc/passwd')).toBe('etc/passwd');
  });

  it('hides a folder (and all it holds) that a later layer replaces with a file', async () => {
    const s = await scans([[dir('d'), file('d/a', 10), file('d/b', 20)], [file('d', 5)]]);
    const fs = mergeLayers(s);
    expect(paths(s)).toEqual(['d']);
    expect(fs.hidden.map((h) => [h.path, h.reason, h.root]).sort()).toEqual([['d/a', 'overwritten', 'd'], ['d/b', 'overwritten', 'd']]);
    expect(fs.changes[1]).toEqual({
      added: { files: 1, bytes: 5 },
      modified: { files: 0, bytes: 0 },
      removed: { files: 2, bytes: 30 },
      paths: { added: [['d', 5]], modified: [], removed: [['d/a', 10], ['d/b', 20]] },
    });
  });

  it('hides a file that a later layer replaces with a folder', async () => {
    const s = await scans([[file('d', 5)], [dir('d'), file('d/a', 10)]]);
    expect(paths(s)).toEqual(['d', 'd/a']);
    expect(mergeLayers(s).hidden.map((h) => h.path)).toEqual(['d']);
  });

  it('refuses a layer with a name that climbs out, or two members with the same path (readers could keep either)', async () => {
    await expect(scans([[{ ...file('x', 3), path: './a//b/../x' }]])).rejects.toMatchObject({ code: 'TAR_PATH_UNSAFE' });
    await expect(scans([[file('x', 10, 'one'), file('./x', 30, 'two')]])).rejects.toMatchObject({ code: 'TAR_DUPLICATE_ENTRY' });
  });

  it('keeps the later of two scanned entries with the same path in one layer', async () => {
    const [one] = await scans([[file('x', 10, 'one')]]);
    const [two] = await scans([[file('x', 30, 'two')]]);
    const s: LayerScan[] = [{ index: 0, entries: [...one!.entries, ...two!.entries], tarBytes: one!.tarBytes + two!.tarBytes }];
    const fs = mergeLayers(s);
    expect(lookup(fs.root, 'x')!.entry!.size).toBe(30);
    expect(fs.hidden.map((h) => [h.path, h.entry.size, h.layer, h.by])).toEqual([['x', 10, 0, 0]]);
  });

  it('lets an opaque folder keep what its own layer puts there', async () => {
    const s = await scans([[dir('d'), file('d/old', 1), dir('d/sub'), file('d/sub/deep', 2)], [opaque('d'), file('d/new', 3), file('d/sub/again', 4)]]);
    expect(paths(s)).toEqual(['d', 'd/new', 'd/sub', 'd/sub/again']);
    // After entries it would hide, the marker reads two ways (kept by docker, deleted by a naive applier): refused.
    await expect(scans([[file('d/new', 3), opaque('d')]])).rejects.toMatchObject({ code: 'WHITEOUT_INVALID' });
  });

  it('resolves paths through symlinked folders, relative and absolute', async () => {
    const s = await scans([[
      { path: 'bin', type: 'symlink', linkpath: 'usr/bin', mode: 0o777 },
      { path: 'lib64', type: 'symlink', linkpath: '/usr/lib', mode: 0o777 },
      file('usr/bin/ls', 7),
      file('usr/lib/ld.so', 8),
    ]]);
    const root = mergeLayers(s).root;
    expect(resolve(root, '/bin/ls')!.entry!.size).toBe(7);
    expect(resolve(root, 'lib64/ld.so')!.entry!.size).toBe(8);
    expect(resolve(root, '/bin/missing')).toBeUndefined();
    expect(lookup(root, 'bin/ls')).toBeUndefined();
  });

  it('matches ignore globs by segment, across segments and below folders', () => {
    expect(compileGlob('/var/cache/**')('var/cache/apt/x')).toBe(true);
    expect(compileGlob('/var/cache')('var/cache/apt/x')).toBe(true);
    expect(compileGlob('*.log')('app.log')).toBe(true);
    expect(compileGlob('*.log')('a/app.log')).toBe(false);
    expect(compileGlob('**/*.log')('a/b/app.log')).toBe(true);
    expect(compileGlob('/opt/a?c')('opt/abc')).toBe(true);
    expect(compileGlob('/opt/a?c')('opt/a/c')).toBe(false);
    expect(compileGlob('/opt/a.c')('opt/abc')).toBe(false);
  });
});
