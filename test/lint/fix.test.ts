/**
 * --fix: for every fixable rule, fixing its bad example leaves that rule (and every fixable rule)
 * silent on re-lint; fixes refuse spots where the text change could change what the build does;
 * every corpus Dockerfile reaches a fixed point with the same stages and instructions.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDockerfile } from '../../src/dockerfile/parse.js';
import { lint } from '../../src/lint/engine.js';
import { fixDockerfile } from '../../src/lint/fix.js';
import { scanContext } from '../../src/lint/context.js';
import { RULES } from '../../src/lint/rules/index.js';
import { CASES } from './cases.js';
import { cleanupCorpus, corpusNames, materialise } from './corpus-files.js';
import { cleanupContexts, writeContext } from './helpers.js';

afterAll(() => {
  cleanupContexts();
  cleanupCorpus();
});

const fixable = RULES.filter((r) => r.meta.fixable).map((r) => r.meta.id);
const relint = (text: string) => lint({ dockerfile: parseDockerfile(text), file: 'Dockerfile' });

describe('--fix on each fixable rule', () => {
  it('the fixable rules are the ones the issue names (flags, list cleanup, RUN merging) plus cache cleanups', () => {
    expect(fixable).toEqual(['LW202', 'LW203', 'LW204', 'LW205', 'LW207', 'LW209', 'LW301']);
  });

  for (const id of fixable) {
    it(`${id}: the fixed bad example re-lints clean for the fixable rules`, async () => {
      const c = CASES[id]!;
      const dir = writeContext(c.bad.df, c.bad.files);
      const context = await scanContext(dir);
      const before = lint({ dockerfile: parseDockerfile(c.bad.df), file: 'Dockerfile', context });
      expect(before.findings.filter((f) => f.ruleId === id && f.fixable).length).toBeGreaterThan(0);
      const r = fixDockerfile(c.bad.df, { context });
      expect(r.text).not.toBe(c.bad.df);
      expect(r.applied.map((a) => a.ruleId)).toContain(id);
      const after = lint({ dockerfile: parseDockerfile(r.text), file: 'Dockerfile', context });
      expect(after.findings.filter((f) => fixable.includes(f.ruleId)).map((f) => `${f.ruleId}@${f.line} ${f.message}`)).toEqual([]);
      expect(after.findings.filter((f) => f.ruleId === 'LW001')).toEqual([]);
    });
  }
});

describe('--fix edits', () => {
  it('inserts flags right after the subcommand and appends cleanup with the RUN\'s own continuation style', () => {
    const text = ['FROM python:3.12-slim', 'RUN apt-get update \\', '    && apt-get install -y curl', 'COPY requirements.txt .', 'RUN pip install -r requirements.txt', ''].join('\n');
    expect(fixDockerfile(text).text).toBe(
      ['FROM python:3.12-slim', 'RUN apt-get update \\', '    && apt-get install --no-install-recommends -y curl \\', '    && rm -rf /var/lib/apt/lists/*', 'COPY requirements.txt .', 'RUN pip install --no-cache-dir -r requirements.txt', ''].join('\n'),
    );
  });

  it('merges consecutive RUNs into one && chain', () => {
    const text = 'FROM alpine:3.20\nRUN adduser -D app\nRUN mkdir -p /data\nRUN chown app /data\nUSER app\n';
    const r = fixDockerfile(text);
    expect(r.text).toBe('FROM alpine:3.20\nRUN adduser -D app \\\n    && mkdir -p /data \\\n    && chown app /data\nUSER app\n');
    expect(parseDockerfile(r.text).stages[0]!.instructions.filter((i) => i.keyword === 'RUN')).toHaveLength(1);
  });

  it.each([
    ['cd carries over to the next command', 'RUN cd /src\nRUN make'],
    ['set -e changes how later commands fail', 'RUN set -e; ./configure\nRUN make'],
    ['export carries over', 'RUN export CC=clang\nRUN make'],
    ['a bare assignment carries over', 'RUN X=1\nRUN echo $X'],
    ['|| in the second RUN would hide a failure of the first', 'RUN make\nRUN make test || true'],
    ['; in the second RUN would hide a failure of the first', 'RUN make\nRUN make test; echo done'],
    ['a comment between them would be lost', 'RUN make\n# run the tests\nRUN make test'],
    ['the first ends in a shell comment', 'RUN make # build\nRUN make test'],
    ['the first runs something in the background', 'RUN server & sleep 1\nRUN make'],
    ['exec form', 'RUN ["make"]\nRUN make test'],
    ['heredoc', 'RUN <<EOF\nmake\nEOF\nRUN make test'],
    ['the shell is PowerShell', 'SHELL ["powershell", "-Command"]\nRUN make\nRUN make test'],
  ])('does not merge RUNs when %s', (_why, body) => {
    const text = `FROM alpine:3.20\n${body}\n`;
    const findings = relint(text).findings.filter((f) => f.ruleId === 'LW301');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.fixable).toBe(false);
    expect(fixDockerfile(text).text).toBe(text);
  });

  it('does not merge RUNs with different mounts (not reported either)', () => {
    const text = 'FROM alpine:3.20\nRUN make\nRUN --mount=type=cache,target=/root/.cache make test\n';
    expect(relint(text).findings.filter((f) => f.ruleId === 'LW301')).toEqual([]);
  });

  it('does not delete apt lists after an update-only RUN (the next RUN needs them)', () => {
    const text = 'FROM debian:12\nRUN apt-get update\nCOPY x /x\nRUN apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n';
    const lw203 = relint(text).findings.find((f) => f.ruleId === 'LW203')!;
    expect(lw203.fixable).toBe(false);
    expect(fixDockerfile(text).text).toBe(text);
  });

  it('does not append after a trailing operator or into a nested sh -c', () => {
    for (const body of ['RUN apt-get update && apt-get install -y --no-install-recommends curl;', 'RUN sh -c "pip install -r r.txt"']) {
      const text = `FROM debian:12\n${body}\n`;
      expect(fixDockerfile(text).text).toBe(text);
    }
  });

  it('honours inline ignores and disabled rules', () => {
    const text = 'FROM python:3.12-slim\n# layerwise ignore=LW205\nRUN pip install -r r.txt\n';
    expect(fixDockerfile(text).text).toBe(text);
    const t2 = 'FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n';
    expect(fixDockerfile(t2, { config: { failOn: 'warning', disable: ['LW202'], severity: {}, trustedRegistries: [] } }).text).toBe(t2);
  });

  it('uses the escape directive for the continuations it writes', () => {
    const text = '# escape=`\nFROM debian:12\nRUN apt-get update `\n    && apt-get install -y --no-install-recommends curl\n';
    expect(fixDockerfile(text).text).toBe('# escape=`\nFROM debian:12\nRUN apt-get update `\n    && apt-get install -y --no-install-recommends curl `\n    && rm -rf /var/lib/apt/lists/*\n');
  });
});

describe('--fix over the corpus', () => {
  for (const name of corpusNames) {
    it(`${name}: reaches a fixed point with the same stages and instructions`, async () => {
      const dir = materialise(name);
      const file = path.join(dir, 'Dockerfile');
      const text = readFileSync(file, 'utf8');
      const context = await scanContext(dir, { dockerfile: file });
      const r = fixDockerfile(text, { context });
      const before = parseDockerfile(text);
      const after = parseDockerfile(r.text);
      expect(after.problems).toEqual(before.problems);
      expect(after.stages.map((s) => [s.name, s.base.resolved])).toEqual(before.stages.map((s) => [s.name, s.base.resolved]));
      expect(after.instructions.filter((i) => i.keyword !== 'RUN').map((i) => i.text)).toEqual(before.instructions.filter((i) => i.keyword !== 'RUN').map((i) => i.text));
      const again = lint({ dockerfile: after, file: 'Dockerfile', context });
      expect(again.findings.filter((f) => f.fixable)).toEqual([]);
      if (name.endsWith('-good')) expect(r.text).toBe(text);
    });
  }
});
