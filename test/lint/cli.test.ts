/** `layerwise lint` as a user runs it: the built CLI, exit codes, formats, config, --fix on disk. */
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layerwise } from '../support/run.js';
import { cleanupContexts, writeContext } from './helpers.js';

afterAll(cleanupContexts);

const BAD = 'FROM python:3.12-slim\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n';
const env = { NO_COLOR: '1' };

describe('layerwise lint (CLI)', () => {
  it('prints findings with the source line and a caret, and exits 1 at the default threshold', async () => {
    const dir = writeContext(BAD, { 'requirements.txt': 'flask\n', '.git/HEAD': 'ref\n' });
    const r = await layerwise(['lint'], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Dockerfile:3:9: warning LW205 `pip install` without --no-cache-dir leaves its download cache in the layer [fixable]\n  3 | RUN pip install -r /app/requirements.txt\n    |         ^^^^^^^\n');
    expect(r.stdout).toContain('requirements.txt:1:1: warning LW601');
    expect(r.stdout).toMatch(/context Dockerfile: \d+ B in 3 file\(s\) sent \(no \.dockerignore\); largest: /);
    expect(r.stdout.trimEnd().split('\n').pop()).toMatch(/^0 error\(s\), \d+ warning\(s\), \d+ info in 1 Dockerfile\(s\) \(1 fixable with --fix\)$/);
  });

  it('--fail-on and .layerwise.yml set the threshold; --disable and the config drop rules', async () => {
    const dir = writeContext('FROM python:3.12-slim\nUSER 1000\nRUN pip install --no-cache-dir flask\n');
    expect((await layerwise(['lint'], { cwd: dir, env })).code).toBe(1);
    expect((await layerwise(['lint', '--fail-on', 'error'], { cwd: dir, env })).code).toBe(0);
    expect((await layerwise(['lint', '--disable', 'LW603'], { cwd: dir, env })).code).toBe(0);
    writeFileSync(path.join(dir, '.layerwise.yml'), 'analyze:\n  other: 1\nlint:\n  disable: [LW603]\n  failOn: info\n');
    const r = await layerwise(['lint', '--format', 'json'], { cwd: dir, env });
    expect(r.code).toBe(1); // LW103 (info) now fails
    const j = JSON.parse(r.stdout) as { results: { findings: { ruleId: string }[] }[]; summary: { failed: boolean } };
    expect(j.results[0]!.findings.map((f) => f.ruleId)).toEqual(['LW103']);
    expect(j.summary.failed).toBe(true);
  });

  it('refuses bad configuration, bad options and missing files with one line and a stable code', async () => {
    const dir = writeContext('FROM alpine:3.20\n');
    writeFileSync(path.join(dir, 'bad.yml'), 'lint:\n  disable: [LW000x]\n');
    const cases: [string[], number, RegExp][] = [
      [['lint', '--config', 'bad.yml'], 1, /^layerwise: bad\.yml: lint\.disable: unknown rule "LW000x".*\[LINT_CONFIG_INVALID\]\n$/],
      [['lint', 'nope/Dockerfile'], 1, /^layerwise: nope\/Dockerfile: no such file or directory \[IO\]\n$/],
      [['lint', '--format', 'xml'], 2, /^layerwise: --format xml: use tty, json or sarif \[USAGE\]\n$/],
      [['lint', '--dry-run'], 2, /\[USAGE\]\n$/],
      [['lint', '--build-arg', 'NOVALUE'], 2, /NAME=value \[USAGE\]\n$/],
      [['lint', '--target', 'prod'], 1, /no stage named "prod".*\[LINT_TARGET_NOT_FOUND\]\n$/],
    ];
    for (const [args, code, err] of cases) {
      const r = await layerwise(args, { cwd: dir, env });
      expect(r.stderr, args.join(' ')).toMatch(err);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stdout).toBe('');
    }
  });

  it('lints every Dockerfile in a folder, not its .dockerignore files', async () => {
    const dir = writeContext('FROM alpine:3.20\nUSER 1\n', {
      'api.Dockerfile': 'FROM alpine\nUSER 1\n',
      'Dockerfile.dev': 'FROM node:latest\nUSER 1\n',
      'Dockerfile.dockerignore': '.git\n',
      'notes.txt': 'x',
    });
    const r = await layerwise(['lint', '--format', 'json', '--no-context', '.'], { cwd: dir, env });
    const j = JSON.parse(r.stdout) as { results: { file: string; findings: { ruleId: string }[] }[] };
    expect(j.results.map((x) => [x.file, x.findings.map((f) => f.ruleId)])).toEqual([
      ['Dockerfile', ['LW103']],
      ['Dockerfile.dev', ['LW102']],
      ['api.Dockerfile', ['LW101']],
    ]);
  });

  it('writes SARIF to a file with -o, leaving stdout empty', async () => {
    const dir = writeContext(BAD);
    const r = await layerwise(['lint', '--format', 'sarif', '-o', 'out/lint.sarif'], { cwd: dir, env });
    expect(r.stdout).toBe('');
    expect(r.code).toBe(1);
    const doc = JSON.parse(readFileSync(path.join(dir, 'out/lint.sarif'), 'utf8')) as { version: string; runs: { results: { ruleId: string }[] }[] };
    expect(doc.version).toBe('2.1.0');
    expect(doc.runs[0]!.results.map((x) => x.ruleId)).toContain('LW205');
  });

  it('--fix --dry-run shows the diff and leaves the file; --fix writes it, keeping its mode', async () => {
    const dir = writeContext(BAD);
    const file = path.join(dir, 'Dockerfile');
    chmodSync(file, 0o640);
    const dry = await layerwise(['lint', '--fix', '--dry-run', '--no-context'], { cwd: dir, env });
    expect(dry.stdout).toContain('--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,3 +1,3 @@\n FROM python:3.12-slim\n COPY . /app\n-RUN pip install -r /app/requirements.txt\n+RUN pip install --no-cache-dir -r /app/requirements.txt\nwould fix 1 finding(s) in Dockerfile\n');
    expect(readFileSync(file, 'utf8')).toBe(BAD);
    const fix = await layerwise(['lint', '--fix', '--no-context'], { cwd: dir, env });
    expect(fix.stdout).toContain('fixed 1 finding(s) in Dockerfile');
    expect(fix.stdout).not.toContain('LW205');
    expect(readFileSync(file, 'utf8')).toBe(BAD.replace('pip install', 'pip install --no-cache-dir'));
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });

  it('--build-arg values resolve FROM; --no-context skips the build context', async () => {
    const dir = writeContext('ARG TAG=3.20\nFROM alpine:${TAG}\nUSER 1\nCOPY . /x\n', { '.git/HEAD': 'ref\n' });
    const a = await layerwise(['lint', '--format', 'json', '--build-arg', 'TAG=latest'], { cwd: dir, env });
    const ja = JSON.parse(a.stdout) as { results: { findings: { ruleId: string }[]; context: unknown }[] };
    expect(ja.results[0]!.findings.map((f) => f.ruleId)).toEqual(['LW501', 'LW102', 'LW502']);
    const b = await layerwise(['lint', '--format', 'json', '--no-context'], { cwd: dir, env });
    const jb = JSON.parse(b.stdout) as typeof ja;
    expect(jb.results[0]!.findings.map((f) => f.ruleId)).toEqual(['LW103']);
    expect(jb.results[0]!.context).toBeNull();
  });

  it('--list-rules prints the rules as Markdown', async () => {
    const r = await layerwise(['lint', '--list-rules'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('| [LW205](#lw205) | warning | yes | pip install without --no-cache-dir |');
  });
});
