import { assembleImage, defaultConfig, MemoryLayer } from '../image/memory.js';
import type { HistoryEntry } from '../model/config.js';
import type { Image } from '../model/image.js';
import { seededBytes } from '../testing/images.js';
import type { MemoryEntry } from '../tar/writer.js';

/**
 * Built-in example content for the demo: two releases of a small web service, made in memory from
 * seeded generators (no network, no daemon). Release 2 changes a few app files a little, adds one and
 * removes one, like a weekly code update.
 */

const WORDS = ['const', 'function', 'return', 'export', 'import', 'value', 'result', 'request', 'response', 'handler', 'config', 'layer', 'image', 'digest', 'stream', 'buffer', 'await', 'async', 'if', 'else', 'for', 'of', 'new', 'this', 'null', 'true', 'false', 'error', 'message', 'status', 'data', 'items', 'index', 'length'];

function rng(seed: string): () => number {
  const bytes = seededBytes(seed, 4096);
  let i = 0;
  let refill = 0;
  let buf = bytes;
  return () => {
    if (i + 4 > buf.length) {
      buf = seededBytes(`${seed}:${++refill}`, 4096);
      i = 0;
    }
    const v = buf.readUInt32LE(i);
    i += 4;
    return v / 0x100000000;
  };
}

/** Code-like text: lines of identifiers and punctuation, deterministic for a seed. */
export function codeText(seed: string, lines: number): string {
  const r = rng(seed);
  const out: string[] = [];
  for (let l = 0; l < lines; l++) {
    const n = 3 + Math.floor(r() * 9);
    const words: string[] = [];
    for (let w = 0; w < n; w++) words.push(WORDS[Math.floor(r() * WORDS.length)]!);
    out.push(`${'  '.repeat(Math.floor(r() * 4))}${words.join(' ')}${r() < 0.5 ? ';' : ' {'}`);
  }
  return out.join('\n') + '\n';
}

/** Applies small edits to a text, as a bug-fix release does. */
export function editText(text: string, seed: string, edits: number): string {
  const r = rng(seed);
  const lines = text.split('\n');
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * lines.length);
    lines[at] = `${lines[at]} // fixed ${seed}-${e}`;
  }
  return lines.join('\n');
}

function file(path: string, data: string | Buffer, mode = 0o644): MemoryEntry {
  return { path, type: 'file', data: typeof data === 'string' ? Buffer.from(data) : data, mode, mtime: 1700000000 };
}
function dir(path: string): MemoryEntry {
  return { path, type: 'dir', mode: 0o755, mtime: 1700000000 };
}

function baseLayer(): MemoryEntry[] {
  const entries: MemoryEntry[] = [dir('bin/'), dir('etc/'), dir('usr/'), dir('usr/lib/'), dir('usr/share/'), dir('usr/share/doc/')];
  entries.push(file('bin/busybox', seededBytes('busybox', 900_000), 0o755));
  entries.push(file('etc/os-release', 'NAME="Demo Linux"\nVERSION_ID="1"\n'));
  for (let i = 0; i < 40; i++) entries.push(file(`usr/lib/libdemo${i}.so`, seededBytes(`lib${i}`, 20_000 + i * 3000), 0o755));
  for (let i = 0; i < 60; i++) entries.push(file(`usr/share/doc/pkg${i}.txt`, codeText(`doc${i}`, 80)));
  return entries;
}

function runtimeLayer(): MemoryEntry[] {
  const entries: MemoryEntry[] = [dir('usr/'), dir('usr/lib/'), dir('usr/lib/node_modules/')];
  for (let p = 0; p < 30; p++) {
    entries.push(dir(`usr/lib/node_modules/dep${p}/`));
    entries.push(file(`usr/lib/node_modules/dep${p}/package.json`, JSON.stringify({ name: `dep${p}`, version: `1.${p}.0` }, null, 2)));
    entries.push(file(`usr/lib/node_modules/dep${p}/index.js`, codeText(`dep${p}`, 400 + p * 20)));
  }
  return entries;
}

function modelLayer(): MemoryEntry[] {
  return [dir('models/'), file('models/model.bin', seededBytes('model-weights', 6_000_000))];
}

function appLayer(release: 1 | 2): MemoryEntry[] {
  const entries: MemoryEntry[] = [dir('app/'), dir('app/lib/')];
  entries.push(file('app/package.json', JSON.stringify({ name: 'demo-app', version: release === 1 ? '1.0.0' : '1.0.1' }, null, 2)));
  for (let i = 0; i < 25; i++) {
    if (release === 2 && i === 7) continue; // removed in release 2
    let text = codeText(`app${i}`, 1500 + i * 100);
    if (release === 2 && i % 6 === 0) text = editText(text, `r2-${i}`, 3);
    entries.push(file(`app/lib/module${i}.js`, text));
  }
  if (release === 2) entries.push(file('app/lib/feature-new.js', codeText('feature-new', 300)));
  entries.push(file('app/server.js', release === 1 ? 'console.log("demo app 1.0.0");\n' : 'console.log("demo app 1.0.1");\n'));
  return entries;
}

/** Release 1 or 2 of the demo service, as an OCI image with gzip layers (what registries serve). */
export function demoRelease(release: 1 | 2): Image {
  const layers = [baseLayer(), runtimeLayer(), modelLayer(), appLayer(release)].map((entries) =>
    MemoryLayer.fromTar(tarBytes(entries), { compression: 'gzip', family: 'docker' }),
  );
  const history: HistoryEntry[] = [
    { created_by: 'ADD rootfs.tar /' },
    { created_by: 'RUN install-node-runtime && rm -rf /var/cache/*' },
    { created_by: 'COPY models/ /models/' },
    { created_by: 'COPY app/ /app/' },
  ];
  const config = defaultConfig(history);
  config.config = { ...(config.config ?? {}), Cmd: ['node', '/app/server.js'], WorkingDir: '/app', Labels: { 'org.opencontainers.image.version': release === 1 ? '1.0.0' : '1.0.1' } };
  return assembleImage({ layers, config, family: 'docker', names: [`demo/app:1.0.${release - 1}`] });
}

import { tarFromEntries } from '../tar/writer.js';
function tarBytes(entries: MemoryEntry[]): Buffer {
  return tarFromEntries(entries);
}
