import { describe, expect, it } from 'vitest';
import { hasOption, optionValues, recogniseCommand, recogniseScript } from './commands.js';
import { parseShell } from './shell.js';

const one = (s: string) => {
  const inv = recogniseCommand(parseShell(s).commands[0]!);
  return inv && { tool: inv.tool, sub: inv.subcommand, options: inv.options.map((o) => (o.value === undefined ? o.name : `${o.name}=${o.value}`)), operands: inv.operands.map((w) => w.value) };
};

describe('recogniseCommand', () => {
  it('reads apt-get options, clusters and valued short options', () => {
    expect(one('apt-get -qy install --no-install-recommends -o Dpkg::Options::=--force-confold -t bookworm-backports curl ca-certificates')).toEqual({
      tool: 'apt-get',
      sub: 'install',
      options: ['-q', '-y', '--no-install-recommends', '-o=Dpkg::Options::=--force-confold', '-t=bookworm-backports'],
      operands: ['curl', 'ca-certificates'],
    });
    expect(one('apt install -y git')?.tool).toBe('apt-get');
  });

  it('looks through sudo, env and leading assignments', () => {
    const inv = recogniseCommand(parseShell('DEBIAN_FRONTEND=noninteractive sudo -E env PIP_NO_CACHE_DIR=1 pip3 install flask').commands[0]!)!;
    expect(inv.tool).toBe('pip');
    expect(inv.program).toBe('pip3');
    expect([...inv.env]).toEqual([
      ['DEBIAN_FRONTEND', 'noninteractive'],
      ['PIP_NO_CACHE_DIR', '1'],
    ]);
  });

  it('recognises python -m pip and its install options', () => {
    expect(one('python3.12 -u -m pip install --no-cache-dir -r requirements.txt -c constraints.txt .')).toEqual({
      tool: 'pip',
      sub: 'install',
      options: ['--no-cache-dir', '-r=requirements.txt', '-c=constraints.txt'],
      operands: ['.'],
    });
    expect(one('python -m venv /venv')).toBeUndefined();
    expect(one('/usr/local/bin/pip install -rrequirements.txt')?.options).toEqual(['-r=requirements.txt']);
  });

  it('normalises npm, yarn and pnpm subcommands', () => {
    expect(one('npm i')?.sub).toBe('install');
    expect(one('npm clean-install --omit=dev')).toEqual({ tool: 'npm', sub: 'ci', options: ['--omit=dev'], operands: [] });
    expect(one('yarn --frozen-lockfile')).toEqual({ tool: 'yarn', sub: 'install', options: ['--frozen-lockfile'], operands: [] });
    expect(one('pnpm i --frozen-lockfile')?.sub).toBe('install');
  });

  it('reads go, mvn and gradle single-dash options', () => {
    expect(one('go build -ldflags "-s -w" -o /out/app ./cmd/app')).toEqual({ tool: 'go', sub: 'build', options: ['-ldflags=-s -w', '-o=/out/app'], operands: ['./cmd/app'] });
    expect(one('go install golang.org/x/tools/gopls@latest')?.operands).toEqual(['golang.org/x/tools/gopls@latest']);
    expect(one('mvn -B -q -DskipTests -P prod package')).toEqual({ tool: 'mvn', sub: 'package', options: ['-B', '-q', '-D=skipTests', '-P=prod'], operands: [] });
    expect(one('./gradlew --no-daemon build -x test')).toEqual({ tool: 'gradle', sub: 'build', options: ['--no-daemon', '-x=test'], operands: [] });
  });

  it('reads apk and dnf', () => {
    expect(one('apk add --no-cache --virtual .build-deps gcc musl-dev')).toEqual({ tool: 'apk', sub: 'add', options: ['--no-cache', '--virtual=.build-deps'], operands: ['gcc', 'musl-dev'] });
    expect(one('dnf -y --setopt=install_weak_deps=False in python3')).toEqual({ tool: 'dnf', sub: 'install', options: ['-y', '--setopt=install_weak_deps=False'], operands: ['python3'] });
  });

  it('treats rm operands as paths (no subcommand)', () => {
    expect(one('rm -rf /var/lib/apt/lists/* /tmp/x')).toEqual({ tool: 'rm', sub: undefined, options: ['-r', '-f'], operands: ['/var/lib/apt/lists/*', '/tmp/x'] });
  });

  it('stops reading options at --', () => {
    expect(one('pip install -- -weird-name')).toEqual({ tool: 'pip', sub: 'install', options: [], operands: ['-weird-name'] });
  });

  it('helpers find options by any of their names', () => {
    const inv = recogniseCommand(parseShell('pip install -r a.txt --requirement b.txt').commands[0]!)!;
    expect(hasOption(inv, '--no-cache-dir')).toBe(false);
    expect(optionValues(inv, '-r', '--requirement')).toEqual(['a.txt', 'b.txt']);
  });
});

describe('recogniseScript', () => {
  it('finds commands in order, including sh -c scripts (marked nested)', () => {
    const invs = recogniseScript(parseShell(`apt-get update && sh -c "pip install flask && npm ci" && unknown-tool`));
    expect(invs.map((i) => [i.tool, i.subcommand, i.nested])).toEqual([
      ['apt-get', 'update', false],
      ['pip', 'install', true],
      ['npm', 'ci', true],
    ]);
  });
  it('looks through xargs', () => {
    expect(recogniseScript(parseShell('cat pkgs.txt | xargs -r apt-get install -y')).map((i) => i.tool)).toEqual(['apt-get']);
  });
});
