import { describe, expect, it } from 'vitest';
import { joinContinuations, parseDockerfile } from './parse.js';
import { parseShell } from './shell.js';

const df = (lines: string[], buildArgs?: Record<string, string>) => parseDockerfile(lines.join('\n') + '\n', buildArgs ? { buildArgs } : {});

describe('parseDockerfile: stages and base images', () => {
  it('splits stages, names them and classifies their bases', () => {
    const d = df(['FROM golang:1.22 AS Build', 'RUN go build', 'FROM build AS test', 'FROM scratch', 'COPY --from=build /out /app', 'FROM ghcr.io/acme/base@sha256:' + 'a'.repeat(64)]);
    expect(d.stages.map((s) => [s.name, s.base.kind, s.base.stage, s.instructions.length])).toEqual([
      ['build', 'image', undefined, 1],
      ['test', 'stage', 0, 0],
      [undefined, 'scratch', undefined, 1],
      [undefined, 'image', undefined, 0],
    ]);
    expect(d.stages[0]!.base.name).toEqual({ registry: 'docker.io', repository: 'library/golang', tag: '1.22', digest: undefined });
    expect(d.stages[3]!.base.name?.registry).toBe('ghcr.io');
    expect(d.stages[2]!.instructions[0]!.copy).toMatchObject({ sources: ['/out'], destination: '/app', from: 'build', fromStage: 0 });
    expect(d.problems).toEqual([]);
  });

  it('resolves global ARGs in FROM and records the span of the image word', () => {
    const d = df(['ARG PY=3.12', 'ARG VARIANT', 'FROM python:${PY}-${VARIANT:-slim} AS app', 'FROM --platform=$BUILDPLATFORM node:$NODE']);
    expect(d.globalArgs.map((a) => a.variables![0]!.name)).toEqual(['PY', 'VARIANT']);
    const [a, b] = d.stages;
    expect(a!.base).toMatchObject({ raw: 'python:${PY}-${VARIANT:-slim}', resolved: 'python:3.12-slim', kind: 'image' });
    expect(a!.base.span.start).toEqual({ line: 3, column: 6, offset: d.text.indexOf('python:$') });
    expect(a!.base.span.end.column).toBe(6 + 'python:${PY}-${VARIANT:-slim}'.length);
    expect(b!.base).toMatchObject({ kind: 'unresolved', problem: 'no value for $NODE', platform: '' });
  });

  it('build args override ARG defaults', () => {
    const d = df(['ARG PY=3.12', 'FROM python:${PY}'], { PY: '3.13' });
    expect(d.stages[0]!.base.resolved).toBe('python:3.13');
  });

  it('reports an image name that does not parse as unresolved with the reason', () => {
    const d = df(['FROM Python:3']);
    expect(d.stages[0]!.base.kind).toBe('unresolved');
    expect(d.stages[0]!.base.problem).toMatch(/invalid repository name/);
  });
});

describe('parseDockerfile: ARG/ENV scoping (Docker rules)', () => {
  const scopeAt = (d: ReturnType<typeof df>, keyword: string, nth = 0) => {
    const ins = d.instructions.filter((i) => i.keyword === keyword)[nth]!;
    return Object.fromEntries([...ins.scope].filter(([k]) => !k.startsWith('TARGET') && !k.startsWith('BUILD')).map(([k, v]) => [k, v.value]));
  };

  it('global ARGs are not visible inside a stage unless redeclared, and then keep their default', () => {
    const d = df(['ARG VERSION=1.0', 'ARG OTHER=x', 'FROM alpine:3.20', 'RUN echo a', 'ARG VERSION', 'RUN echo b']);
    expect(scopeAt(d, 'RUN', 0)).toEqual({});
    expect(scopeAt(d, 'RUN', 1)).toEqual({ VERSION: '1.0' });
  });

  it('ENV wins over ARG of the same name, whatever the order', () => {
    const d = df(['FROM alpine:3.20', 'ENV MODE=prod', 'ARG MODE=dev', 'RUN echo $MODE']);
    expect(scopeAt(d, 'RUN')).toEqual({ MODE: 'prod' });
  });

  it('ENV with several pairs substitutes with the values from before the instruction', () => {
    const d = df(['FROM alpine:3.20', 'ENV A=hello', 'ENV A=bye B=$A', 'RUN true']);
    expect(scopeAt(d, 'RUN')).toEqual({ A: 'bye', B: 'hello' });
  });

  it('a stage built on an earlier stage inherits its ENV but not its ARGs', () => {
    const d = df(['FROM alpine:3.20 AS base', 'ARG SECRETISH=1', 'ENV APP_HOME=/app', 'FROM base', 'RUN true']);
    expect(scopeAt(d, 'RUN')).toEqual({ APP_HOME: '/app' });
  });

  it('resolves ARG/ENV in COPY sources and destinations, with quotes', () => {
    const d = df(['FROM alpine:3.20', 'ARG SRC=app', 'ENV DEST="/opt/my app"', 'COPY ${SRC}/ "$DEST/"']);
    expect(d.stages[0]!.instructions[2]!.copy).toMatchObject({ sources: ['app/'], destination: '/opt/my app/' });
  });

  it('ARG and ENV definitions carry raw and resolved values', () => {
    const d = df(['FROM alpine:3.20', 'ARG BASE=/srv', 'ENV ROOT=${BASE}/www LEGACY_FORM_OK=1', 'ENV OLD value with spaces']);
    expect(d.instructions[2]!.variables!.map((v) => [v.name, v.value, v.resolved])).toEqual([
      ['ROOT', '${BASE}/www', '/srv/www'],
      ['LEGACY_FORM_OK', '1', '1'],
    ]);
    expect(d.instructions[3]!.variables!.map((v) => [v.name, v.resolved])).toEqual([['OLD', 'value with spaces']]);
  });
});

describe('parseDockerfile: RUN forms, continuations, heredocs, flags', () => {
  it('joins continuations, drops comment lines inside them, and maps script characters to source offsets', () => {
    const text = ['FROM debian:12', 'RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\', '    apt-get update && \\', '    # install tools', '    apt-get install -y curl', ''].join('\n');
    const d = parseDockerfile(text);
    const run = d.stages[0]!.instructions[0]!;
    expect(run.command!.form).toBe('shell');
    expect(run.command!.script).toBe('apt-get update &&     apt-get install -y curl');
    expect(run.flags).toMatchObject([{ name: 'mount', options: { type: 'cache', target: '/var/cache/apt', sharing: 'locked' } }]);
    expect(run.span.start.line).toBe(2);
    expect(run.span.end.line).toBe(5);
    const offs = run.command!.sourceOffsets!;
    const script = run.command!.script;
    for (let i = 0; i < script.length; i++) expect(text[offs[i]!]).toBe(script[i]);
    const curl = parseShell(script).commands[1]!.argv[3]!;
    expect(text.slice(offs[curl.start]!, offs[curl.end - 1]! + 1)).toBe('curl');
  });

  it('reads the exec form', () => {
    const d = df(['FROM alpine:3.20', 'RUN ["pip", "install", "x"]', 'CMD ["python", "app.py"]', 'RUN [not json']);
    const [run, cmd, bad] = d.stages[0]!.instructions;
    expect(run!.command).toMatchObject({ form: 'exec', argv: ['pip', 'install', 'x'], sourceOffsets: undefined });
    expect(cmd!.command).toMatchObject({ form: 'exec', argv: ['python', 'app.py'] });
    expect(bad!.command).toMatchObject({ form: 'shell', script: '[not json' });
  });

  it('uses the heredoc body as the script for RUN <<EOF, and keeps other heredocs as data', () => {
    const text = ['FROM alpine:3.20', 'RUN <<EOF', 'set -e', 'apk add --no-cache curl', 'EOF', "COPY <<-'CONF' /etc/app.conf", '\tkey=value', '\tCONF', 'RUN cat > /x <<EOT', 'data', 'EOT', ''].join('\n');
    const d = parseDockerfile(text);
    const [run, copy, run2] = d.stages[0]!.instructions;
    expect(run!.command).toMatchObject({ form: 'heredoc', script: 'set -e\napk add --no-cache curl\n' });
    const offs = run!.command!.sourceOffsets!;
    expect(text[offs[7]!]).toBe('a');
    expect(copy!.heredocs).toMatchObject([{ name: 'CONF', stripTabs: true, content: 'key=value\n' }]);
    expect(copy!.copy!.heredoc).toBe(true);
    expect(run2!.command).toMatchObject({ form: 'shell', script: 'cat > /x <<EOT' });
    expect(run2!.heredocs[0]!.content).toBe('data\n');
  });

  it('follows SHELL, and a stage built on a stage inherits it', () => {
    const d = df(['FROM debian:12 AS a', 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]', 'RUN true', 'FROM a', 'RUN true', 'FROM debian:12', 'RUN true']);
    const runs = d.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.command!.shell);
    expect(runs).toEqual([['/bin/bash', '-o', 'pipefail', '-c'], ['/bin/bash', '-o', 'pipefail', '-c'], ['/bin/sh', '-c']]);
  });

  it('honours the escape directive', () => {
    const text = ['# escape=`', 'FROM mcr.microsoft.com/windows/servercore:ltsc2022', 'RUN powershell -Command `', '    Write-Host hi', 'WORKDIR C:\\app', ''].join('\r\n');
    const d = parseDockerfile(text);
    expect(d.escape).toBe('`');
    expect(d.directives).toEqual([{ name: 'escape', value: '`', line: 1 }]);
    expect(d.stages[0]!.instructions[0]!.command!.script).toBe('powershell -Command     Write-Host hi');
    expect(d.stages[0]!.instructions[1]!.args).toBe('C:\\app');
  });

  it('collects the comment lines right above an instruction', () => {
    const d = df(['# syntax=docker/dockerfile:1', 'FROM alpine:3.20', '', '# first', '# layerwise ignore=LW202', 'RUN true', '# not adjacent', '', 'RUN false']);
    expect(d.instructions.map((i) => i.comments)).toEqual([[], ['first', 'layerwise ignore=LW202'], []]);
  });
});

describe('parseDockerfile: problems', () => {
  it('lists what Docker would refuse', () => {
    const d = df(['RUN echo before', 'FROM', 'FORM alpine']);
    expect(d.problems.map((p) => [p.span.start.line, p.message])).toEqual([
      [1, 'RUN before the first FROM (only ARG may come before FROM)'],
      [2, 'FROM has no arguments'],
      [3, 'unknown instruction FORM'],
    ]);
    expect(parseDockerfile('').problems.map((p) => p.message)).toEqual(['no FROM instruction']);
  });
});

describe('joinContinuations', () => {
  it('allows blanks after the escape character and CRLF line ends', () => {
    const t = 'a \\  \r\n  b\r\n';
    expect(joinContinuations(t, 0, t.length, '\\').text).toBe('a   b');
  });
});

describe('parseDockerfile: WORKDIR and USER', () => {
  it('tracks the working directory per instruction, relative WORKDIRs included, across stages built on stages', () => {
    const d = df(['FROM alpine:3.20 AS a', 'ENV BASE=/srv', 'WORKDIR $BASE', 'WORKDIR app/../www', 'RUN pwd', 'FROM a', 'RUN pwd', 'FROM alpine:3.20', 'USER ${U:-app}:app', 'RUN pwd']);
    expect(d.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.workdir)).toEqual(['/srv/www', '/srv/www', '/']);
    expect(d.instructions.find((i) => i.keyword === 'USER')!.user).toBe('app:app');
  });
});

describe('parseDockerfile: directives vs comments', () => {
  it('only syntax/escape/check written "# name=value" at the top are directives', () => {
    const d = parseDockerfile('# layerwise ignore-file=LW103\n# syntax=docker/dockerfile:1\nFROM alpine:3.20\n');
    expect(d.directives).toEqual([]);
    expect(d.comments).toEqual([
      { line: 1, text: 'layerwise ignore-file=LW103' },
      { line: 2, text: 'syntax=docker/dockerfile:1' },
    ]);
    const e = parseDockerfile('# syntax=docker/dockerfile:1\n# layerwise ignore-file=LW103\nFROM alpine:3.20\n');
    expect(e.directives).toEqual([{ name: 'syntax', value: 'docker/dockerfile:1', line: 1 }]);
    expect(e.comments).toEqual([{ line: 2, text: 'layerwise ignore-file=LW103' }]);
  });
});
