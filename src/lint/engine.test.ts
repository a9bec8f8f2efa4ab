import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../dockerfile/parse.js';
import { fails, lint } from './engine.js';
import { formatJson } from './format/json.js';
import { formatTty } from './format/tty.js';
import { DEFAULT_CONFIG, type LintConfig } from './types.js';

const run = (text: string, config: Partial<LintConfig> = {}, target?: string) =>
  lint({ dockerfile: parseDockerfile(text), file: 'Dockerfile', config: { ...DEFAULT_CONFIG, ...config }, ...(target ? { target } : {}) });
const ids = (r: ReturnType<typeof run>) => r.findings.map((f) => `${f.ruleId}@${f.line}`);

const BAD = 'FROM python:3.12-slim\nRUN pip install -r requirements.txt\nUSER 1000\n';

describe('lint engine', () => {
  it('reports rule, severity, 1-based line and column, end column and the source line', () => {
    const r = run(BAD);
    const f = r.findings.find((x) => x.ruleId === 'LW205')!;
    expect(f).toMatchObject({ severity: 'warning', line: 2, column: 9, endLine: 2, endColumn: 16, snippet: 'RUN pip install -r requirements.txt', fixable: true });
    expect(ids(r)).toEqual(['LW103@1', 'LW205@2']);
  });

  it('inline "# layerwise ignore=" applies to the instruction below; ignore-file to the whole file', () => {
    const text = 'FROM python:3.12-slim\n# install deps\n# layerwise ignore=LW205, LW999\nRUN pip install -r requirements.txt\nRUN pip install -r dev.txt\n';
    const r = run(text);
    expect(ids(r)).toEqual(['LW103@1', 'LW401@1', 'LW301@5', 'LW205@5']);
    expect(r.suppressed).toBe(1);
    const r2 = run('# layerwise ignore-file=LW103,lw401\n' + text);
    expect(ids(r2)).toEqual(['LW301@6', 'LW205@6']);
    expect(r2.suppressed).toBe(3);
  });

  it('an ignore comment separated by a blank line does not apply', () => {
    expect(ids(run('FROM python:3.12-slim\n# layerwise ignore=LW205\n\nRUN pip install x==1\n'))).toContain('LW205@4');
  });

  it('config disables rules and changes severities', () => {
    const r = run(BAD, { disable: ['LW103'], severity: { LW205: 'error' } });
    expect(r.findings.map((f) => [f.ruleId, f.severity])).toEqual([['LW205', 'error']]);
  });

  it('the failure threshold decides the exit code', () => {
    const r = run(BAD);
    expect(fails(r.findings, 'warning')).toBe(true);
    expect(fails(r.findings, 'error')).toBe(false);
    expect(fails(r.findings.filter((f) => f.severity === 'info'), 'info')).toBe(true);
    expect(fails(r.findings, 'never')).toBe(false);
  });

  it('--target makes another stage the final one', () => {
    const text = 'FROM python:3.12-slim AS dev\nRUN pip install -r requirements.txt\nFROM python:3.12-slim AS prod\nUSER 1000\n';
    expect(ids(run(text)).filter((i) => i.startsWith('LW205'))).toEqual([]);
    expect(ids(run(text, {}, 'dev')).filter((i) => i.startsWith('LW205') || i.startsWith('LW401'))).toEqual(['LW401@1', 'LW205@2']);
    expect(() => run(text, {}, 'test')).toThrow(expect.objectContaining({ code: 'LINT_TARGET_NOT_FOUND' }));
  });

  it('trustedRegistries enables LW104 for every stage', () => {
    expect(ids(run('FROM quay.io/x/y:1 AS a\nFROM ghcr.io/x/z:1\nUSER 1\n', { trustedRegistries: ['ghcr.io'], disable: ['LW103'] }))).toEqual(['LW104@1']);
  });
});

describe('output', () => {
  it('tty: the line and a caret under the finding, the fix, and a summary', () => {
    const out = formatTty([run(BAD)], { color: false });
    expect(out).toContain('Dockerfile:2:9: warning LW205 `pip install` without --no-cache-dir leaves its download cache in the layer [fixable]\n  2 | RUN pip install -r requirements.txt\n    |         ^^^^^^^\n  fix: Add --no-cache-dir');
    expect(out.trimEnd().split('\n').pop()).toBe('0 error(s), 1 warning(s), 1 info in 1 Dockerfile(s) (1 fixable with --fix)');
    expect(formatTty([run('FROM python:3.12-slim@sha256:' + 'a'.repeat(64) + '\nUSER 1\n')], { color: false })).toBe('no findings in 1 Dockerfile(s)\n');
  });

  it('tty: keeps tabs so the caret lines up, and colours only when asked', () => {
    const r = run('FROM alpine:3.20\nRUN\tapk add curl\nUSER 1\n');
    const out = formatTty([r], { color: false });
    expect(out).toContain('  2 | RUN\tapk add curl\n    |    \t    ^^^\n');
    expect(formatTty([r], { color: true })).toMatch(/\x1b\[33mwarning\x1b\[39m/);
  });

  it('json: findings with locations and a summary', () => {
    const j = formatJson([run(BAD)], '0.1.0', true);
    expect(j.summary).toEqual({ error: 0, warning: 1, info: 1, fixable: 1, failed: true });
    expect(j.results[0]!.findings[1]).toEqual({ ruleId: 'LW205', severity: 'warning', message: expect.stringContaining('--no-cache-dir'), file: 'Dockerfile', line: 2, column: 9, endLine: 2, endColumn: 16, fixable: true });
  });
});
