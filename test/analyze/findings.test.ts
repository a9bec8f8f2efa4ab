import { describe, expect, it } from 'vitest';
import { analyzeImage } from '../../src/analyze/analyze.js';
import { attributeLayers } from '../../src/analyze/dockerfile-attribution.js';
import { defaultConfig } from '../../src/image/memory.js';
import type { ImageConfig } from '../../src/model/config.js';
import { dir, file, image, text, whiteout } from './fixtures.js';

describe('junk', () => {
  it('reports apt lists left by a RUN with the fix and exact bytes', async () => {
    const { report } = await analyzeImage(image([
      { step: 'base', entries: [file('bin/sh', 500)] },
      { step: '/bin/sh -c apt-get update && apt-get install -y curl', entries: [dir('var/lib/apt/lists'), file('var/lib/apt/lists/deb.debian.org_Packages', 42000), file('var/lib/apt/lists/lock', 0), file('usr/bin/curl', 300)] },
    ]));
    const f = report.findings.find((x) => x.rule === 'junk.apt-lists')!;
    expect(f.bytes).toBe(42000);
    expect(f.savings).toBe(42000);
    expect(f.layer).toBe(1);
    expect(f.title).toBe('RUN apt-get update && apt-get install -y curl (layer 1) leaves /var/lib/apt/lists (42.0 KB, apt package lists)');
    expect(f.fix).toContain('rm -rf /var/lib/apt/lists/*');
    expect(report.totals.junkBytes).toBe(42000);
  });

  it('says where to clean up when apt lists are deleted one RUN too late', async () => {
    const { report } = await analyzeImage(image([
      { step: '/bin/sh -c apt-get update', entries: [file('var/lib/apt/lists/a_Packages', 30000), file('var/lib/apt/lists/b_Packages', 12000)] },
      { step: '/bin/sh -c apt-get install -y curl && rm -rf /var/lib/apt/lists', entries: [whiteout('var/lib/apt/lists'), file('usr/bin/curl', 300)] },
    ]));
    expect(report.totals.wastedBytes).toBe(42000);
    expect(report.totals.junkBytes).toBe(0);
    const f = report.findings.find((x) => x.rule === 'waste.deleted')!;
    expect(f.title).toBe('RUN apt-get update (layer 0) stores /var/lib/apt/lists (42.0 KB in 2 files, apt package lists) that RUN apt-get install -y curl && rm -rf /var/lib/apt/lists (layer 1) deletes too late: the bytes still ship in layer 0');
    expect(f.fix).toBe('remove them in the same RUN: end it with `&& rm -rf /var/lib/apt/lists/*`, in the RUN that creates them, not in a later one');
  });

  it('tells a COPY that brings .git to use .dockerignore', async () => {
    const { report } = await analyzeImage(image([
      { step: 'COPY . /app # buildkit', entries: [file('app/main.js', 100), file('app/.git/objects/pack/p.pack', 18000), text('app/.git/HEAD', 'ref: refs/heads/main\n'), file('app/.vscode/settings.json', 30)] },
    ]));
    const git = report.findings.find((x) => x.rule === 'junk.vcs')!;
    expect(git.bytes).toBe(18000 + 21);
    expect(git.title).toContain('COPY . /app (layer 0) brings /app/.git');
    expect(git.fix).toBe('add .git to .dockerignore so the build context leaves it out');
    expect(report.findings.find((x) => x.rule === 'junk.editor')!.bytes).toBe(30);
  });

  it('finds caches of pip, npm, yarn and __pycache__', async () => {
    const { report } = await analyzeImage(image([
      { step: 'RUN pip install flask', entries: [file('root/.cache/pip/http/a', 111), file('usr/lib/python3/site-packages/flask/__pycache__/app.cpython-311.pyc', 222)] },
      { step: 'RUN npm ci', entries: [file('root/.npm/_cacache/x', 333), file('usr/local/share/.cache/yarn/v6/y', 444)] },
    ]));
    const bytes = Object.fromEntries(report.findings.filter((f) => f.kind === 'junk').map((f) => [f.rule, f.bytes]));
    expect(bytes).toEqual({ 'junk.pip-cache': 111, 'junk.pycache': 222, 'junk.npm-cache': 333, 'junk.yarn-cache': 444 });
  });
});

const DPKG_STATUS = (pkgs: [string, string][]) =>
  pkgs.map(([n, v]) => `Package: ${n}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: ${v}\nDescription: ${n}\n multi-line\n`).join('\n');

describe('packages', () => {
  it('sizes Debian packages from info lists, through a merged /usr, and finds the installing layer', async () => {
    const { report } = await analyzeImage(image([
      {
        step: 'base',
        entries: [
          { path: 'bin', type: 'symlink', linkpath: 'usr/bin', mode: 0o777 },
          file('usr/bin/ls', 1500),
          text('var/lib/dpkg/status', DPKG_STATUS([['coreutils', '9.1-1']])),
          text('var/lib/dpkg/info/coreutils.list', '/.\n/bin\n/bin/ls\n'),
        ],
      },
      {
        step: '/bin/sh -c apt-get install -y gcc-12',
        entries: [
          file('usr/lib/gcc/x86_64-linux-gnu/12/cc1', 30000),
          file('usr/bin/gcc-12', 1200),
          text('var/lib/dpkg/status', DPKG_STATUS([['coreutils', '9.1-1'], ['gcc-12', '12.2.0-14']])),
          text('var/lib/dpkg/info/gcc-12:amd64.list', '/usr\n/usr/lib/gcc/x86_64-linux-gnu/12/cc1\n/usr/bin/gcc-12\n'),
        ],
      },
    ]));
    const byName = Object.fromEntries(report.packages.map((p) => [p.name, p]));
    expect(byName['coreutils']).toMatchObject({ ecosystem: 'dpkg', version: '9.1-1', bytes: 1500, files: 1, layer: 0 });
    expect(byName['gcc-12']).toMatchObject({ ecosystem: 'dpkg', version: '12.2.0-14', bytes: 31200, files: 2, layer: 1, step: 'RUN apt-get install -y gcc-12' });
    expect(report.packages[0]!.name).toBe('gcc-12');
    const t = report.findings.find((f) => f.kind === 'toolchain')!;
    expect(t.bytes).toBe(31200);
    expect(t.packages).toEqual(['gcc-12']);
    expect(t.layer).toBe(1);
    expect(t.fix).toMatch(/separate stage/);
  });

  it('sizes distroless Debian packages from status.d and their md5sums lists', async () => {
    const { report } = await analyzeImage(image([
      {
        step: 'bazel build',
        entries: [
          file('usr/lib/x86_64-linux-gnu/libssl.so.3', 700),
          file('usr/lib/x86_64-linux-gnu/libcrypto.so.3', 4200),
          text('var/lib/dpkg/status.d/libssl3', 'Package: libssl3\nVersion: 3.0.11-1\nArchitecture: amd64\n'),
          text('var/lib/dpkg/status.d/libssl3.md5sums', 'aa  usr/lib/x86_64-linux-gnu/libssl.so.3\nbb  usr/lib/x86_64-linux-gnu/libcrypto.so.3\n'),
        ],
      },
    ]));
    expect(report.packages).toEqual([{ ecosystem: 'dpkg', name: 'libssl3', version: '3.0.11-1', bytes: 4900, files: 2, source: '/var/lib/dpkg/status.d/libssl3', layer: 0, step: 'bazel build' }]);
  });

  it('sizes Python distributions from RECORD, scripts outside site-packages included', async () => {
    const sp = 'usr/local/lib/python3.11/site-packages';
    const record = ['requests/__init__.py,sha256=x,120', 'requests/api.py,sha256=y,880', '"requests/we,ird.py",sha256=z,5', '../../../bin/req,,', 'requests-2.31.0.dist-info/RECORD,,'].join('\n');
    const { report } = await analyzeImage(image([
      { step: 'RUN pip install requests', entries: [file(`${sp}/requests/__init__.py`, 120), file(`${sp}/requests/api.py`, 880), file(`${sp}/requests/we,ird.py`, 5), file('usr/local/bin/req', 40), text(`${sp}/requests-2.31.0.dist-info/RECORD`, record)] },
    ]));
    const p = report.packages.find((x) => x.ecosystem === 'python')!;
    expect(p).toMatchObject({ name: 'requests', version: '2.31.0', files: 5, bytes: 120 + 880 + 5 + 40 + Buffer.byteLength(record), layer: 0 });
  });

  it('sizes npm packages without their nested node_modules', async () => {
    const { report } = await analyzeImage(image([
      {
        step: 'RUN npm ci',
        entries: [
          text('app/node_modules/express/package.json', '{"name":"express","version":"4.18.2"}'),
          file('app/node_modules/express/index.js', 1000),
          text('app/node_modules/express/node_modules/debug/package.json', '{"name":"debug","version":"2.6.9"}'),
          file('app/node_modules/express/node_modules/debug/src/index.js', 500),
          text('app/node_modules/@types/node/package.json', '{"name":"@types/node","version":"20.0.0"}'),
          file('app/node_modules/@types/node/index.d.ts', 7000),
        ],
      },
    ]));
    const byName = Object.fromEntries(report.packages.map((p) => [p.name, p]));
    const len = (s: string) => Buffer.byteLength(s);
    expect(byName['express']).toMatchObject({ ecosystem: 'npm', version: '4.18.2', bytes: 1000 + len('{"name":"express","version":"4.18.2"}'), files: 2 });
    expect(byName['debug']).toMatchObject({ bytes: 500 + len('{"name":"debug","version":"2.6.9"}'), files: 2 });
    expect(byName['@types/node']).toMatchObject({ bytes: 7000 + len('{"name":"@types/node","version":"20.0.0"}'), files: 2 });
  });

  it('sizes apk packages from the installed database', async () => {
    const db1 = 'C:Q1abc\nP:musl\nV:1.2.4-r2\nI:600000\nF:lib\nR:ld-musl-x86_64.so.1\n\n';
    const db2 = db1 + 'C:Q1def\nP:curl\nV:8.5.0-r0\nF:usr/bin\nR:curl\n\n';
    const { report } = await analyzeImage(image([
      { step: 'ADD alpine.tar /', entries: [file('lib/ld-musl-x86_64.so.1', 6000), text('lib/apk/db/installed', db1)] },
      { step: 'RUN apk add curl', entries: [file('usr/bin/curl', 2500), text('lib/apk/db/installed', db2)] },
    ]));
    const byName = Object.fromEntries(report.packages.map((p) => [p.name, p]));
    expect(byName['musl']).toMatchObject({ ecosystem: 'apk', version: '1.2.4-r2', bytes: 6000, layer: 0 });
    expect(byName['curl']).toMatchObject({ ecosystem: 'apk', version: '8.5.0-r0', bytes: 2500, layer: 1, step: 'RUN apk add curl' });
  });
});

describe('Dockerfile attribution', () => {
  const dockerfile = [
    'FROM golang:1.22 AS build', // 1
    'RUN go build -o /out/app .', // 2
    '',
    'FROM debian:12', // 4
    'ENV A=1',
    'RUN apt-get update && \\', // 6
    '    apt-get install -y curl',
    'COPY --from=build /out/app /usr/local/bin/app', // 8
    'RUN rm -rf /tmp/x', // 9
    'CMD ["app"]',
  ].join('\n');

  it('maps classic-builder history to the lines of the final stage', () => {
    const config = {
      ...defaultConfig([
        { created_by: '/bin/sh -c #(nop) ADD file:123 in / ' },
        { created_by: '/bin/sh -c #(nop)  CMD ["bash"]', empty_layer: true },
        { created_by: '/bin/sh -c #(nop)  ENV A=1', empty_layer: true },
        { created_by: '/bin/sh -c apt-get update &&     apt-get install -y curl' },
        { created_by: '/bin/sh -c #(nop) COPY file:abc in /usr/local/bin/app ' },
        { created_by: '/bin/sh -c rm -rf /tmp/x' },
        { created_by: '/bin/sh -c #(nop)  CMD ["app"]', empty_layer: true },
      ]),
      rootfs: { type: 'layers', diff_ids: ['sha256:' + '1'.repeat(64), 'sha256:' + '2'.repeat(64), 'sha256:' + '3'.repeat(64), 'sha256:' + '4'.repeat(64)] },
    } as ImageConfig;
    expect(attributeLayers(config, dockerfile)).toEqual([undefined, 6, 8, 9]);
  });

  it('maps BuildKit history too', () => {
    const config = {
      ...defaultConfig([
        { created_by: '# debian.sh --arch amd64 out/ bookworm' },
        { created_by: 'ENV A=1', comment: 'buildkit.dockerfile.v0', empty_layer: true },
        { created_by: 'RUN /bin/sh -c apt-get update &&     apt-get install -y curl # buildkit' },
        { created_by: 'COPY /out/app /usr/local/bin/app # buildkit' },
        { created_by: 'RUN /bin/sh -c rm -rf /tmp/x # buildkit' },
        { created_by: 'CMD ["app"]', empty_layer: true },
      ]),
      rootfs: { type: 'layers', diff_ids: ['sha256:' + '1'.repeat(64), 'sha256:' + '2'.repeat(64), 'sha256:' + '3'.repeat(64), 'sha256:' + '4'.repeat(64)] },
    } as ImageConfig;
    expect(attributeLayers(config, dockerfile)).toEqual([undefined, 6, 8, 9]);
  });

  it('puts the line into findings', async () => {
    const { report } = await analyzeImage(image([
      { step: '/bin/sh -c #(nop) ADD file:1 in /', entries: [file('bin/sh', 10)] },
      { step: '/bin/sh -c apt-get update &&     apt-get install -y curl', entries: [file('var/lib/apt/lists/x', 999)] },
    ]), { dockerfile: { path: 'Dockerfile', text: 'FROM debian\nRUN apt-get update && \\\n    apt-get install -y curl\n' } });
    const f = report.findings.find((x) => x.rule === 'junk.apt-lists')!;
    expect(f.line).toBe(2);
    expect(f.title).toContain('(layer 1, Dockerfile line 2)');
    expect(report.dockerfile).toBe('Dockerfile');
  });
});
