import fc from 'fast-check';
import { seededBytes } from '../../src/testing/images.js';
import type { MemoryEntry } from '../../src/tar/writer.js';

/**
 * Generated image pairs for property tests: an old image (layers of entries) and a new one made from it
 * by the changes real updates make: files added, modified (small edits or rewrites), deleted (whiteouts,
 * opaque whiteouts), renamed and moved, hardlinks, symlinks, empty and larger files, long names needing
 * PAX headers; layers kept, rebuilt (new mtimes), added, removed and reordered.
 */

export interface FileSpec {
  path: string;
  seed: string;
  size: number;
  mode: number;
  mtime: number;
}

export type LayerSpec = MemoryEntry[];

export interface PairSpec {
  old: LayerSpec[];
  next: LayerSpec[];
}

const dirs = ['', 'etc/', 'usr/lib/', 'app/', 'app/src/', 'opt/' + 'deep/'.repeat(25), 'var/lib/'];
const names = ['config.json', 'main.js', 'lib.so', 'readme.md', 'data.bin', 'x', 'ünï-codé.txt', 'long-' + 'n'.repeat(120) + '.txt', 'script.sh'];

function content(seed: string, size: number, textual: boolean): Buffer {
  if (!textual) return seededBytes(seed, size);
  const words = ['alpha', 'beta', 'gamma', 'return', 'const', '{', '}', ';', '\n', 'value'];
  const rnd = seededBytes(seed, size);
  const out: string[] = [];
  let len = 0;
  for (let i = 0; len < size; i++) {
    const w = words[rnd[i % rnd.length]! % words.length]!;
    out.push(w, ' ');
    len += w.length + 1;
  }
  return Buffer.from(out.join('').slice(0, size));
}

/** Small edits: bytes replaced, inserted and deleted at a few places. */
function edit(data: Buffer, seed: string): Buffer {
  const r = seededBytes(seed, 16);
  let out = Buffer.from(data);
  for (let k = 0; k < 3 && out.length > 8; k++) {
    const at = r.readUInt16LE(k * 2) % out.length;
    const op = r[8 + k]! % 3;
    if (op === 0) out[at] = (out[at]! + 1) & 0xff;
    else if (op === 1) out = Buffer.concat([out.subarray(0, at), Buffer.from(`<ins ${seed}>`), out.subarray(at)]);
    else out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 5))]);
  }
  return out;
}

const fileArb = fc.record({
  dir: fc.constantFrom(...dirs),
  name: fc.constantFrom(...names),
  size: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1000, max: 40_000 }), fc.constant(200_000)),
  textual: fc.boolean(),
  mode: fc.constantFrom(0o644, 0o755, 0o600, 0o4755),
  mtime: fc.integer({ min: 1_600_000_000, max: 1_700_000_000 }),
});

const layerArb = fc.array(fileArb, { minLength: 1, maxLength: 8 });

type Change = 'keep' | 'rebuild' | 'edit' | 'rewrite' | 'delete' | 'opaque' | 'rename' | 'move' | 'add' | 'links' | 'drop' | 'swap';
const changeArb = fc.constantFrom<Change>('keep', 'rebuild', 'edit', 'rewrite', 'delete', 'opaque', 'rename', 'move', 'add', 'links', 'drop', 'swap');

function dirEntries(path: string, seen: Set<string>, mtime: number): MemoryEntry[] {
  const out: MemoryEntry[] = [];
  const parts = path.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    const d = parts.slice(0, i).join('/') + '/';
    if (!seen.has(d)) {
      seen.add(d);
      out.push({ path: d, type: 'dir', mode: 0o755, mtime });
    }
  }
  return out;
}

type Files = typeof layerArb extends fc.Arbitrary<infer T> ? T : never;

function buildLayer(files: Files, seed: string): LayerSpec {
  const seen = new Set<string>();
  const entries: MemoryEntry[] = [];
  files.forEach((f, i) => {
    const path = `${f.dir}${i}-${f.name}`;
    entries.push(...dirEntries(path, seen, f.mtime));
    entries.push({ path, type: 'file', mode: f.mode, mtime: f.mtime, data: content(`${seed}:${i}`, f.size, f.textual) });
  });
  return entries;
}

function applyChange(layer: LayerSpec, change: Change, seed: string): LayerSpec[] {
  const files = layer.filter((e) => e.type === 'file');
  const pick = (k: number) => files[k % Math.max(1, files.length)];
  const copy = () => layer.map((e) => ({ ...e }));
  switch (change) {
    case 'keep':
      return [layer];
    case 'rebuild': // same files, new mtimes: a rebuilt layer with a new digest
      return [copy().map((e) => ({ ...e, mtime: (e.mtime ?? 0) + 97 }))];
    case 'edit':
      return [copy().map((e, i) => (e.type === 'file' && e.data && e.data.length > 8 && i % 2 === 0 ? { ...e, data: edit(Buffer.from(e.data), `${seed}:${i}`), mtime: (e.mtime ?? 0) + 5 } : e))];
    case 'rewrite':
      return [copy().map((e, i) => (e.type === 'file' && i % 3 === 0 ? { ...e, data: seededBytes(`rw:${seed}:${i}`, (e.data?.length ?? 10) + 3) } : e))];
    case 'delete': {
      const f = pick(1);
      if (!f) return [layer];
      const base = f.path.slice(f.path.lastIndexOf('/') + 1);
      const dir = f.path.slice(0, f.path.lastIndexOf('/') + 1);
      return [layer, [{ path: `${dir}.wh.${base}`, type: 'file', mode: 0o644, mtime: 1 }]];
    }
    case 'opaque': {
      const f = files.find((e) => e.path.includes('/'));
      if (!f) return [layer];
      const dir = f.path.slice(0, f.path.indexOf('/') + 1);
      return [layer, [{ path: dir, type: 'dir', mode: 0o755, mtime: 2 }, { path: `${dir}.wh..wh..opq`, type: 'file', mode: 0o644, mtime: 2 }, { path: `${dir}fresh.txt`, type: 'file', data: Buffer.from('after opaque'), mtime: 2 }]];
    }
    case 'rename':
      return [copy().map((e) => (e.type === 'file' ? { ...e, path: e.path.replace(/(\d+)-/, '$1-renamed-') } : e))];
    case 'move': {
      const moved = files.map((e) => ({ ...e, path: `moved/${e.path.replace(/\//g, '_')}` }));
      return [[{ path: 'moved/', type: 'dir', mode: 0o755, mtime: 3 }, ...moved]];
    }
    case 'add':
      return [layer, buildLayer([{ dir: 'new/', name: 'added.bin', size: 3000, textual: false, mode: 0o644, mtime: 5 }], `add:${seed}`)];
    case 'links': {
      const f = pick(0);
      if (!f) return [layer];
      return [[...copy(), { path: `${f.path}.hard`, type: 'hardlink', linkpath: f.path, mtime: 4 }, { path: `${f.path}.sym`, type: 'symlink', linkpath: f.path.slice(f.path.lastIndexOf('/') + 1), mtime: 4 }]];
    }
    case 'drop':
      return [];
    case 'swap':
      return [layer];
  }
}

export const pairArb: fc.Arbitrary<PairSpec> = fc
  .record({ layers: fc.array(layerArb, { minLength: 1, maxLength: 4 }), changes: fc.array(changeArb, { minLength: 4, maxLength: 4 }), seed: fc.string({ minLength: 1, maxLength: 6 }) })
  .map(({ layers, changes, seed }) => {
    const old = layers.map((l, i) => buildLayer(l, `${seed}:${i}`));
    let next: LayerSpec[] = [];
    old.forEach((l, i) => next.push(...applyChange(l, changes[i]!, `${seed}:c${i}`)));
    if (changes.includes('swap') && next.length >= 2) next = [next[1]!, next[0]!, ...next.slice(2)];
    if (next.length === 0) next = [buildLayer([{ dir: '', name: 'x', size: 10, textual: true, mode: 0o644, mtime: 1 }], 'fallback')];
    return { old, next };
  });
