/**
 * The build-context scan agrees with a real engine: a tree with a tricky .dockerignore is copied
 * into an image with COPY . /ctx, and the files the image holds are exactly the files the scan says
 * are sent (same paths, same sizes).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanContext } from '../../src/lint/context.js';
import { loadBusybox, startEngine, type TestEngine } from '../support/engine.js';
import { haveEngine } from '../support/tools.js';
import { cleanupContexts, writeContext } from './helpers.js';

const ok = haveEngine();
let engine: TestEngine | undefined;
beforeAll(async () => {
  if (!ok) return;
  engine = await startEngine('ctx');
  await loadBusybox(engine);
});
afterAll(async () => {
  await engine?.stop();
  cleanupContexts();
});

const IGNORE = [
  '# build output and noise',
  '*.log',
  '**/*.tmp',
  'node_modules',
  '**/__pycache__',
  'data/*',
  '!data/keep.csv',
  'docs/**/*.md',
  '!docs/README.md',
  'secret?.txt',
  '.git',
  '',
].join('\n');

const FILES: Record<string, string | number> = {
  '.dockerignore': IGNORE,
  'app.log': 10,
  'sub/app.log': 11,
  'a.tmp': 12,
  'deep/er/b.tmp': 13,
  'node_modules/x/index.js': 14,
  'pkg/node_modules/y.js': 15,
  'pkg/__pycache__/m.pyc': 16,
  '__pycache__/n.pyc': 17,
  'data/big.csv': 18,
  'data/keep.csv': 19,
  'data/sub/deep.csv': 20,
  'docs/README.md': 21,
  'docs/guide/intro.md': 22,
  'docs/guide/img.png': 23,
  'secret1.txt': 24,
  'secret12.txt': 25,
  '.git/HEAD': 26,
  'src/main.py': 27,
  'src/.env': 28,
};

describe.skipIf(!ok)('context scan vs a real engine', () => {
  it('sends exactly the files COPY . finds in the image', async () => {
    const e = engine!;
    const dir = writeContext('FROM lwtest/busybox:1\nCOPY . /ctx\n', FILES);
    const sent = new Map<string, number>();
    const c = await scanContext(dir, { dockerfile: path.join(dir, 'Dockerfile'), onSent: (rel, size) => sent.set(rel, size) });
    const b = await e.docker(['build', '--network', 'none', '-q', '-t', 'lwctx/t:1', '.'], { cwd: dir });
    expect(b.code, b.stderr).toBe(0);
    const r = await e.docker(['run', '--rm', '--network', 'none', 'lwctx/t:1', 'sh', '-c', 'cd /ctx && find . -type f -exec wc -c {} \\;']);
    expect(r.code, r.stderr).toBe(0);
    const inImage = new Map(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .map(([size, p]) => [p!.replace(/^\.\//, ''), Number(size)] as const),
    );
    expect([...sent.keys()].sort()).toEqual([...inImage.keys()].sort());
    for (const [p, size] of sent) expect(inImage.get(p), p).toBe(size);
    expect(c.totalFiles).toBe(inImage.size);
    // What Docker excluded, by the patterns' own logic:
    expect(sent.has('sub/app.log')).toBe(true); // *.log is anchored at the root
    expect(sent.has('pkg/node_modules/y.js')).toBe(true); // so is node_modules
    expect(sent.has('data/keep.csv')).toBe(true);
    expect(sent.has('data/sub/deep.csv')).toBe(false);
    expect(sent.has('docs/README.md')).toBe(true);
    expect(sent.has('secret12.txt')).toBe(true);
  });
});
