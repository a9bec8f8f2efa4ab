import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanContext } from './context.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tree(files: Record<string, string | number>): string {
  const dir = mkdtempSync('/tmp/lw-ctx-');
  dirs.push(dir);
  for (const [rel, c] of Object.entries(files)) {
    const p = path.join(dir, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, typeof c === 'number' ? Buffer.alloc(c) : c);
  }
  return dir;
}

describe('scanContext', () => {
  it('sums what is sent, lists the largest top-level entries and the unwanted items', async () => {
    const dir = tree({
      'Dockerfile': 'FROM x\n',
      'src/a.py': 100,
      '.git/objects/pack/p.pack': 5000,
      'node_modules/x/index.js': 300,
      'node_modules/x/debug.log': 10,
      'models/llama.gguf': 2000,
      'weights.bin': 999,
      'big.bin': 1_500_000,
      'out.log': 7,
      '.env': 'A=1\n',
      '.env.example': 'A=\n',
      'backup.tar.gz': 50,
      '.vscode/settings.json': '{}',
    });
    const c = await scanContext(dir);
    expect(c.ignoreFile).toBeUndefined();
    expect(c.totalFiles).toBe(13);
    expect(c.totalSize).toBe(7 + 100 + 5000 + 300 + 10 + 2000 + 999 + 1_500_000 + 7 + 4 + 3 + 50 + 2);
    expect(c.largest.slice(0, 3)).toEqual([
      { path: 'big.bin', size: 1_500_000 },
      { path: '.git/', size: 5000 },
      { path: 'models/', size: 2000 },
    ]);
    expect(c.items.map((i) => `${i.path}:${i.category}:${i.size}`)).toEqual([
      'big.bin:model-weights:1500000',
      '.git:vcs:5000',
      'models/llama.gguf:model-weights:2000',
      'node_modules:dependencies:310',
      'backup.tar.gz:archives:50',
      'out.log:logs:7',
      '.env:secrets:4',
      '.vscode:editor:2',
    ]);
  });

  it('applies .dockerignore with Docker semantics: anchored names, ** and ! exceptions', async () => {
    const dir = tree({
      '.dockerignore': '# comment\n*.log\n**/__pycache__\nnode_modules\ndata/*\n!data/keep.csv\n',
      'a.log': 5,
      'sub/b.log': 6,
      'pkg/__pycache__/m.pyc': 7,
      'node_modules/x.js': 8,
      'pkg/node_modules/y.js': 9,
      'data/big.csv': 10,
      'data/keep.csv': 11,
    });
    const c = await scanContext(dir);
    expect(c.ignoreFile).toBe('.dockerignore');
    // *.log is anchored at the root (sub/b.log stays), node_modules only at the root, data/* except keep.csv.
    const sent = c.totalFiles;
    expect(sent).toBe(4); // .dockerignore, sub/b.log, pkg/node_modules/y.js, data/keep.csv
    expect(c.excludedFiles).toBe(4);
    expect(c.excludedSize).toBe(5 + 7 + 8 + 10);
    expect(c.items.map((i) => i.path)).toEqual(['pkg/node_modules', 'sub/b.log']);
  });

  it('prefers <Dockerfile>.dockerignore beside the Dockerfile, as BuildKit does', async () => {
    const dir = tree({ '.dockerignore': 'a.log\n', 'app.Dockerfile': 'FROM x\n', 'app.Dockerfile.dockerignore': 'b.log\n', 'a.log': 1, 'b.log': 2 });
    const c = await scanContext(dir, { dockerfile: path.join(dir, 'app.Dockerfile') });
    expect(c.ignoreFile).toBe('app.Dockerfile.dockerignore');
    expect(c.items.map((i) => i.path)).toEqual(['a.log']);
  });

  it('counts symlinks without following them, and records manifests and small requirement texts', async () => {
    const dir = tree({ 'requirements.txt': 'flask==3.0.3\n', 'requirements/dev.txt': 'pytest\n', 'web/package.json': '{}', 'web/yarn.lock': '', 'huge/requirements.txt': 300 * 1024 });
    symlinkSync('/etc', path.join(dir, 'etc-link'));
    const c = await scanContext(dir);
    expect([...c.manifests].sort()).toEqual(['huge/requirements.txt', 'requirements.txt', 'requirements/dev.txt', 'web/package.json', 'web/yarn.lock']);
    expect([...c.texts.keys()].sort()).toEqual(['requirements.txt', 'requirements/dev.txt', 'web/package.json']);
    expect(c.dirs.has('web')).toBe(true);
    expect(c.totalFiles).toBe(6);
  });

  it('fails with a one-line IO error for a missing folder', async () => {
    await expect(scanContext('/tmp/lw-does-not-exist-xyz')).rejects.toMatchObject({ code: 'IO' });
  });
});
