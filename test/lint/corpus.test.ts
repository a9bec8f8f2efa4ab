/**
 * The corpus: realistic Dockerfiles with their build contexts (test/lint/corpus/<name>/), each with
 * the exact findings expected (rule id and line, one per line, in report order). Context files that
 * cannot live in git (.git folders, node_modules, large model files, .env) are listed in
 * context.json and generated into a temporary copy. Names ending in -good are well-written and must
 * produce no findings at all.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lintFile } from '../../src/lint/engine.js';
import { cleanupCorpus, corpusNames as names, corpusRoot as root, materialise } from './corpus-files.js';

afterAll(cleanupCorpus);

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

