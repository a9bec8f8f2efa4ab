/**
 * SARIF output validates against the OASIS SARIF 2.1.0 JSON schema (test/lint/sarif/, see README
 * there for its source): for the whole corpus, a fix-carrying result, and an empty run.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDockerfile } from '../../src/dockerfile/parse.js';
import { lint, lintFile, type LintResult } from '../../src/lint/engine.js';
import { formatSarif, pathToUri } from '../../src/lint/format/sarif.js';
import { RULES } from '../../src/lint/rules/index.js';
import { cleanupCorpus, corpusNames, materialise } from './corpus-files.js';

afterAll(cleanupCorpus);

type Schema = Record<string, unknown>;

/** The draft-04 schema with its header switched to draft-07 (the keywords it uses mean the same in both). */
function sarifSchema(): Schema {
  const s = JSON.parse(readFileSync(new URL('./sarif/sarif-schema-2.1.0.json', import.meta.url), 'utf8')) as Schema;
  expect(s.$schema).toBe('http://json-schema.org/draft-04/schema#');
  const { id, $schema: _old, ...rest } = s;
  return { $schema: 'http://json-schema.org/draft-07/schema#', $id: id, ...rest };
}

function validator() {
  const ajv = new Ajv.default({ allErrors: true, strict: false });
  ajv.addFormat('uri', (v: string) => {
    try {
      new URL(v);
      return true;
    } catch {
      return false;
    }
  });
  ajv.addFormat('uri-reference', (v: string) => {
    try {
      new URL(v, 'file:///base/');
      return !/\s/.test(v);
    } catch {
      return false;
    }
  });
  ajv.addFormat('date-time', (v: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v));
  return ajv.compile(sarifSchema());
}

describe('SARIF 2.1.0 output', () => {
  const validate = validator();

  it('the validator rejects documents that break the schema (so the passing cases mean something)', () => {
    expect(validate({ version: '2.1.0', runs: [{ tool: { driver: {} } }] })).toBe(false);
    expect(validate({ version: '2.0.0', runs: [] })).toBe(false);
    expect(validate({ version: '2.1.0', runs: [{ tool: { driver: { name: 'x' } }, results: [{ message: { text: 'm' }, level: 'fatal' }] }] })).toBe(false);
    expect(validate({ version: '2.1.0', runs: [{ tool: { driver: { name: 'x' } }, results: [{ message: { text: 'm' }, locations: [{ physicalLocation: { region: { startLine: 0 } } }] }] }] })).toBe(false);
  });

  it('validates for every corpus Dockerfile linted together', async () => {
    const results: LintResult[] = [];
    for (const name of corpusNames) {
      const dir = materialise(name);
      const r = await lintFile(path.join(dir, 'Dockerfile'), { cwd: dir });
      results.push({ ...r, file: `${name}/${r.file}`, findings: r.findings.map((f) => ({ ...f, file: `${name}/${f.file}` })) });
    }
    const doc = formatSarif(results, '0.1.0');
    const ok = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    const run = (doc.runs as { results: { ruleId: string; ruleIndex: number; level: string }[]; tool: { driver: { rules: { id: string }[] } } }[])[0]!;
    expect(run.results.length).toBe(results.reduce((n, r) => n + r.findings.length, 0));
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual(RULES.map((r) => r.meta.id));
    for (const r of run.results) expect(run.tool.driver.rules[r.ruleIndex]!.id).toBe(r.ruleId);
    expect(new Set(run.results.map((r) => r.level))).toEqual(new Set(['error', 'warning', 'note']));
  });

  it('validates with fixes, whole-file results, odd paths and no results', () => {
    const text = 'FROM python:3.12-slim\nRUN pip install -r requirements.txt\n';
    const r = lint({ dockerfile: parseDockerfile(text), file: 'services/my app/Dockerfile' });
    const doc = formatSarif([r, { file: 'x/Dockerfile', findings: [], suppressed: 0, context: undefined }], '0.1.0') as { runs: { results: { fixes?: unknown[] }[] }[] };
    expect(validate(doc)).toBe(true);
    expect(doc.runs[0]!.results.some((x) => x.fixes?.length)).toBe(true);
    expect(validate(formatSarif([], '0.1.0'))).toBe(true);
    expect(pathToUri('services/my app/Dockerfile')).toBe('services/my%20app/Dockerfile');
  });
});
