/**
 * The corpus: realistic Dockerfiles with their build contexts (test/lint/corpus/<name>/), each with
 * the exact findings expected (rule id and line, one per line, in report order). Context files that
 * cannot live in git (.git folders, node_modules, large model files, .env) are listed in
 * context.json and generated into a temporary copy. Names ending in -good are well-written and must
 * produce no findings at all.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lintFile } from '../../src/lint/engine.js';

const root = new URL('./corpus/', import.meta.url).pathname;
const names = readdirSync(root).sort();
const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A temporary copy of a corpus entry with its generated files. */
export function materialise(name: string): string {
  const dir = mkdtempSync('/tmp/lw-corpus-');
  temps.push(dir);
  cpSync(path.join(root, name), dir, { recursive: true });
  const spec = path.join(dir, 'context.json');
  if (existsSync(spec)) {
    const gen = (JSON.parse(readFileSync(spec, 'utf8')) as { generate?: Record<string, string | number> }).generate ?? {};
    for (const [rel, content] of Object.entries(gen)) {
      const p = path.join(dir, rel);
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, typeof content === 'number' ? Buffer.alloc(content, 7) : content);
    }
  }
  return dir;
}

describe('lint corpus', () => {
  it('has at least 20 Dockerfiles across ecosystems, several of them well-written', () => {
    expect(names.length).toBeGreaterThanOrEqual(20);
    expect(names.filter((n) => n.endsWith('-good')).length).toBeGreaterThanOrEqual(8);
    for (const eco of ['python', 'node', 'go', 'java', 'cuda', 'rust', 'ruby', 'nginx', 'php', 'dotnet']) expect(names.some((n) => n.includes(eco))).toBe(true);
  });

  for (const name of names) {
    it(name, async () => {
      const dir = materialise(name);
      const expected = readFileSync(path.join(root, name, 'expected'), 'utf8').split('\n').filter(Boolean);
      if (name.endsWith('-good')) expect(expected).toEqual([]);
      const r = await lintFile(path.join(dir, 'Dockerfile'), { cwd: dir });
      const got = r.findings.map((f) => `${f.ruleId} ${f.file === 'Dockerfile' ? (f.line ?? '-') : `${f.file}:${f.line ?? '-'}`}`);
      expect(got).toEqual(expected);
    });
  }
});

export { names as corpusNames, root as corpusRoot };
