/**
 * Every rule: a bad example it must fire on (at the expected lines) and the corrected example it must
 * stay silent on. The last test checks that no rule is missing from the table.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { RULES } from '../../src/lint/rules/index.js';
import { CASES } from './cases.js';
import { cleanupContexts, lintContext } from './helpers.js';

afterAll(cleanupContexts);

function where(f: { line: number | undefined; file: string }): number | string {
  if (f.file === 'Dockerfile') return f.line ?? '-';
  return `${f.line ?? '-'}:${f.file}`;
}

describe('each rule fires on its bad example and stays silent on the fixed one', () => {
  for (const [id, c] of Object.entries(CASES)) {
    it(`${id}`, async () => {
      const bad = await lintContext(c.bad.df, c.bad.files, c.config);
      expect(bad.findings.filter((f) => f.ruleId === id).map(where)).toEqual(c.at);
      const good = await lintContext(c.good.df, c.good.files, c.config);
      expect(good.findings.filter((f) => f.ruleId === id).map((f) => `${f.line}: ${f.message}`)).toEqual([]);
    });
  }

  it('covers every rule', () => {
    expect(Object.keys(CASES).sort()).toEqual(RULES.map((r) => r.meta.id));
  });
});

