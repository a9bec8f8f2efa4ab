import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BuildContext, cleanSource, matchComponent } from './context.js';

const root = mkdtempSync('/tmp/lw-plan-ctx-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function context(name: string, files: Record<string, string>): string {
  const dir = path.join(root, name);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

describe('BuildContext', () => {
  it('gives the same digest for the same files in two contexts, and another one when content or mode changes', async () => {
    const files = { 'requirements.txt': 'flask\n', 'models/a.onnx': 'weights', 'models/sub/b.bin': 'more', 'Dockerfile': 'FROM x' };
    const a = await BuildContext.open(context('a', files));
    const b = await BuildContext.open(context('b', { ...files, 'Dockerfile': 'FROM y' }));
    expect(await a.sourcesDigest(['requirements.txt'])).toBe(await b.sourcesDigest(['./requirements.txt']));
    expect(await a.sourcesDigest(['models/'])).toBe(await b.sourcesDigest(['models']));
    expect(await a.sourcesDigest(['.'])).not.toBe(await b.sourcesDigest(['.']));
    const c = await BuildContext.open(context('c', { ...files, 'models/sub/b.bin': 'other' }));
    expect(await c.sourcesDigest(['models/'])).not.toBe(await a.sourcesDigest(['models/']));
    chmodSync(path.join(root, 'b', 'requirements.txt'), 0o600);
    const b2 = await BuildContext.open(path.join(root, 'b'));
    expect(await b2.sourcesDigest(['requirements.txt'])).not.toBe(await a.sourcesDigest(['requirements.txt']));
    // The name of a copied file is part of what COPY writes.
    const d = await BuildContext.open(context('d', { 'reqs.txt': 'flask\n' }));
    expect(await d.sourcesDigest(['reqs.txt'])).not.toBe(await a.sourcesDigest(['requirements.txt']));
  });

  it('applies .dockerignore and wildcards, and knows missing and outside sources', async () => {
    const dir = context('e', { 'a.txt': '1', 'b.txt': '2', 'c.md': '3', 'models/x.tmp': 't', 'models/x.onnx': 'w', '.dockerignore': '*.md\nmodels/*.tmp\n' });
    symlinkSync('a.txt', path.join(dir, 'link'));
    const ctx = await BuildContext.open(dir);
    expect((await ctx.match('*.txt')).matches.map((m) => m.rel)).toEqual(['a.txt', 'b.txt']);
    expect((await ctx.match('*.md')).matches).toEqual([]);
    expect((await ctx.sourceEntries(['models/'])).map((e) => e.rel)).toEqual(['models', 'models/x.onnx']);
    expect(await ctx.has('c.md')).toBe(false);
    expect(await ctx.sourcesDigest(['missing.txt'])).toBeUndefined();
    expect(await ctx.sourcesDigest(['../e/a.txt'])).toBeUndefined();
    expect(await ctx.sourcesDigest(['link'])).toMatch(/^sha256:/);
    expect(await ctx.readSmall('a.txt')).toBe('1');
    expect(await ctx.readSmall('c.md')).toBeUndefined();
  });

  it('matches like Go filepath.Match and cleans sources like Docker', () => {
    expect(matchComponent('*.txt', 'a.txt')).toBe(true);
    expect(matchComponent('req?.txt', 'req1.txt')).toBe(true);
    expect(matchComponent('[a-c]*', 'b1')).toBe(true);
    expect(matchComponent('[^a-c]*', 'b1')).toBe(false);
    expect(matchComponent('a\\*', 'a*')).toBe(true);
    expect(cleanSource('./a/../b/')).toBe('b');
    expect(cleanSource('/x')).toBe('x');
    expect(cleanSource('../x')).toBeUndefined();
    expect(cleanSource('.')).toBe('');
  });
});
