import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeLayers, walk } from '../../src/analyze/overlay.js';
import { scanTarStream, type LayerScan } from '../../src/analyze/scan.js';
import { computeWaste } from '../../src/analyze/waste.js';
import { LayerSafety } from '../../src/tar/layer-safety.js';
import { tarFromEntries, type MemoryEntry } from '../../src/tar/writer.js';

type Op = { kind: 'file'; path: string; size: number } | { kind: 'dir'; path: string } | { kind: 'whiteout'; path: string } | { kind: 'opaque'; path: string };

const PATHS = ['a', 'a/b', 'a/b/c', 'a/d', 'e', 'e/f', 'e/f/g'];

/** The reference: overlay semantics written the plain way, over a flat map of paths. */
function naive(layers: Op[][]): { files: Map<string, [number, number]>; stored: number } {
  const state = new Map<string, { kind: 'file' | 'dir'; size: number; layer: number }>();
  const under = (p: string) => [...state.keys()].filter((k) => k.startsWith(p + '/'));
  const exists = (p: string) => state.has(p) || under(p).length > 0;
  let stored = 0;
  layers.forEach((ops, L) => {
    for (const op of ops) {
      if (op.kind === 'whiteout') {
        state.delete(op.path);
        for (const k of under(op.path)) state.delete(k);
      } else if (op.kind === 'opaque') {
        if (state.get(op.path)?.kind !== 'file' && exists(op.path)) for (const k of under(op.path)) state.delete(k);
      }
    }
    for (const op of ops) {
      if (op.kind === 'whiteout' || op.kind === 'opaque') continue;
      const parts = op.path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const a = parts.slice(0, i).join('/');
        if (state.get(a)?.kind === 'file') state.delete(a);
      }
      const old = state.get(op.path);
      if (op.kind === 'dir') {
        if (old?.kind === 'file') state.delete(op.path);
        state.set(op.path, { kind: 'dir', size: 0, layer: L });
      } else {
        stored += op.size;
        if (old?.kind === 'dir' || (!old && under(op.path).length > 0)) {
          state.delete(op.path);
          for (const k of under(op.path)) state.delete(k);
        }
        state.set(op.path, { kind: 'file', size: op.size, layer: L });
      }
    }
  });
  const files = new Map<string, [number, number]>();
  for (const [p, v] of state) if (v.kind === 'file') files.set(p, [v.size, v.layer]);
  return { files, stored };
}

function toEntries(ops: Op[]): MemoryEntry[] {
  return ops.map((op) => {
    const i = op.path.lastIndexOf('/');
    const dir = op.path.slice(0, i + 1);
    const name = op.path.slice(i + 1);
    switch (op.kind) {
      case 'file':
        return { path: op.path, type: 'file', mode: 0o644, data: Buffer.alloc(op.size, 7) };
      case 'dir':
        return { path: op.path + '/', type: 'dir', mode: 0o755 };
      case 'whiteout':
        return { path: `${dir}.wh.${name}`, type: 'file', mode: 0o644, data: Buffer.alloc(0) };
      case 'opaque':
        return { path: `${op.path}/.wh..wh..opq`, type: 'file', mode: 0o644, data: Buffer.alloc(0) };
    }
  });
}

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('file' as const), path: fc.constantFrom(...PATHS), size: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({ kind: fc.constant('dir' as const), path: fc.constantFrom(...PATHS) }),
  fc.record({ kind: fc.constant('whiteout' as const), path: fc.constantFrom(...PATHS) }),
  fc.record({ kind: fc.constant('opaque' as const), path: fc.constantFrom(...PATHS) }),
);

// Layers as a builder writes them: one member per path (a later write of the same path in a layer is
// a different case, tested on its own), whiteouts for paths the layer does not also write.
const layer = fc.array(op, { maxLength: 6 }).map((ops) => {
  const seen = new Set<string>();
  const kept: Op[] = [];
  for (const o of ops) {
    const key = (o.kind === 'whiteout' || o.kind === 'file' || o.kind === 'dir' ? 'p:' : 'o:') + o.path;
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(o);
  }
  const written = new Set(kept.filter((o) => o.kind === 'file' || o.kind === 'dir').map((o) => o.path));
  // And only layers a reader accepts: no path below a file of the same layer, opaque markers before what they would hide.
  const safety = new LayerSafety('generated');
  return kept
    .filter((o) => o.kind !== 'whiteout' || ![...written].some((w) => w === o.path || w.startsWith(o.path + '/')))
    .filter((o) => {
      const e = toEntries([o])[0]!;
      try {
        safety.check({ path: e.path, linkpath: '', type: e.type });
        return true;
      } catch {
        return false;
      }
    });
});

describe('overlay against a plain reference model', () => {
  it('gives the same final files, stored bytes and waste for random layer stacks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(layer, { minLength: 1, maxLength: 5 }), async (layers) => {
        const scans: LayerScan[] = [];
        for (let i = 0; i < layers.length; i++) scans.push(await scanTarStream(Readable.from([tarFromEntries(toEntries(layers[i]!))]), i, `layer ${i}`));
        const fs = mergeLayers(scans);
        const got = new Map<string, [number, number]>();
        for (const [p, n] of walk(fs.root, '')) if (n.entry?.kind === 'file') got.set(p, [n.entry.size, n.layer]);
        const want = naive(layers);
        expect(got).toEqual(want.files);
        const finalBytes = [...want.files.values()].reduce((a, [s]) => a + s, 0);
        expect(computeWaste(fs, layers.length).wastedBytes).toBe(want.stored - finalBytes);
      }),
      { numRuns: 400 },
    );
  });
});
