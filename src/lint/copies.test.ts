import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../dockerfile/parse.js';
import type { BuildContext } from './context.js';
import { bindMountCopies, contextPathFor, coverage, isBroadSource, normaliseSource } from './copies.js';

const ctx = (manifests: string[], dirs: string[]): BuildContext => ({
  root: '/ctx', ignoreFile: undefined, totalSize: 0, totalFiles: 0, excludedSize: 0, excludedFiles: 0, largest: [], items: [],
  manifests: new Set(manifests), texts: new Map(), dirs: new Set(dirs),
});

describe('COPY sources', () => {
  it('normalise to context-relative paths', () => {
    expect(['.', './', '/', './src/', '/app/x', 'a//b/'].map(normaliseSource)).toEqual(['', '', '', 'src', 'app/x', 'a/b']);
  });

  it.each([
    ['.', '.git', 'contained'],
    ['./', 'node_modules', 'contained'],
    ['*', '.git', 'contained'],
    ['src', 'src/.env', 'contained'],
    ['src/', 'srcx/a', 'none'],
    ['app.log', 'app.log', 'explicit'],
    ['.git/HEAD', '.git', 'explicit'],
    ['*.log', 'app.log', 'explicit'],
    ['*.log', 'logs/app.log', 'none'],
    ['models/*', 'models/a.pt', 'contained'],
    ['m?dels', 'models/a.pt', 'contained'],
  ])('COPY %s covers %s: %s', (source, item, want) => {
    expect(coverage(source, item)).toBe(want);
  });

  it('a folder is "the source" when it holds a dependency manifest', () => {
    const c = ctx(['app/requirements.txt', 'docs/conf.py'], ['app', 'docs', 'static']);
    expect(isBroadSource('.', undefined)).toBe(true);
    expect(isBroadSource('app/', c)).toBe(true);
    expect(isBroadSource('static', c)).toBe(false);
    expect(isBroadSource('app/', undefined)).toBe(false);
  });
});

describe('contextPathFor', () => {
  const df = parseDockerfile(
    [
      'FROM python:3.12-slim',
      'WORKDIR /app',
      'COPY requirements/ ./req/',
      'COPY setup.cfg /etc/app.cfg',
      'COPY lock.txt /app',
      'COPY *.toml ./',
      'COPY . /src',
      'RUN --mount=type=bind,source=uv.lock,target=uv.lock --mount=type=bind,target=/ctx --mount=type=bind,from=build,source=/x,target=/y true',
      '',
    ].join('\n'),
  );
  const copies = df.instructions.filter((i) => i.keyword === 'COPY');
  const c = ctx(['requirements/base.txt', 'pyproject.toml', 'sub/go.mod'], ['requirements', 'sub']);

  it.each([
    ['/app/req/base.txt', 'requirements/base.txt'],
    ['/etc/app.cfg', 'setup.cfg'],
    ['/app/lock.txt', 'lock.txt'],
    ['/app/pyproject.toml', 'pyproject.toml'],
    ['/src/sub/go.mod', 'sub/go.mod'],
    ['/app/nothing.txt', undefined],
  ])('%s came from %s', (imagePath, want) => {
    expect(contextPathFor(imagePath, copies, c)).toBe(want);
  });

  it('bind mounts from the context count like copies for their RUN', () => {
    const run = df.instructions.find((i) => i.keyword === 'RUN')!;
    const binds = bindMountCopies(run);
    expect(binds.map((b) => [b.copy!.sources, b.copy!.destination])).toEqual([
      [['uv.lock'], 'uv.lock'],
      [['.'], '/ctx'],
    ]);
    expect(contextPathFor('/app/uv.lock', binds, undefined)).toBe('uv.lock');
    expect(contextPathFor('/ctx/sub/go.mod', binds, c)).toBe('sub/go.mod');
  });
});
