import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderRulesDoc } from '../../src/lint/docs.js';
import { RULES } from '../../src/lint/rules/index.js';

describe('docs/lint-rules.md', () => {
  const doc = readFileSync(new URL('../../docs/lint-rules.md', import.meta.url), 'utf8');

  it('is the output of npm run docs:lint for the current rules', () => {
    expect(doc).toBe(renderRulesDoc());
  });

  it('documents every rule id with its severity, why and fix', () => {
    for (const r of RULES) {
      const section = doc.slice(doc.indexOf(`### ${r.meta.id}\n`));
      expect(section.startsWith(`### ${r.meta.id}`), r.meta.id).toBe(true);
      expect(section).toContain(r.meta.why);
      expect(section).toContain(r.meta.fix);
      expect(section).toContain(`): ${r.meta.severity}`);
    }
  });

  it('rule metadata is complete and ids are unique and well-formed', () => {
    const ids = RULES.map((r) => r.meta.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of RULES) {
      expect(r.meta.id).toMatch(/^LW\d{3}$/);
      expect(r.meta.name).toMatch(/^[a-z0-9-]+$/);
      for (const k of ['title', 'why', 'fix'] as const) expect(r.meta[k].length, `${r.meta.id}.${k}`).toBeGreaterThan(10);
    }
  });
});
