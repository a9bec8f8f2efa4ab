import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../dockerfile/parse.js';
import { canonicalScript, normalizeStage } from './normalize.js';

const keys = (text: string, digests: Record<number, string> = {}) => {
  const df = parseDockerfile(text);
  return normalizeStage(df, df.stages[0]!, { service: 's', copyDigests: new Map(Object.entries(digests).map(([k, v]) => [Number(k), v])) }).map((s) => s.key);
};
const script = (s: string, vars: Record<string, string> = {}) => canonicalScript(s, (n) => vars[n]).key;

describe('canonical RUN scripts', () => {
  it('makes reordered package lists and options one step', () => {
    const a = script('apt-get install -y --no-install-recommends curl ca-certificates');
    expect(script('apt-get -y install ca-certificates   curl --no-install-recommends')).toBe(a);
    expect(script('apt-get --yes install curl curl ca-certificates --no-install-recommends')).toBe(a);
    expect(script('apt-get install -y --no-install-recommends curl')).not.toBe(a);
    expect(script('pip install --no-cache-dir flask==3.0.3 gunicorn==22.0.0')).toBe(script('pip install gunicorn==22.0.0 --no-cache-dir "flask==3.0.3"'));
    expect(script('apk add --no-cache b a')).toBe(script("apk add a 'b' --no-cache"));
    expect(script('npm install -g pm2 typescript')).toBe(script('npm i typescript pm2 --global'));
  });

  it('normalises whitespace, quoting, continuations, comments and newline separators but keeps && apart from ;', () => {
    const a = script('apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*');
    expect(script('apt-get update \\\n  && apt-get install -y curl \\\n  && rm -rf /var/lib/apt/lists/*')).toBe(a);
    expect(script('apt-get update &&\n  # the tools\n  apt-get install -y "curl" && rm -fr /var/lib/apt/lists/*')).toBe(a);
    expect(script('apt-get update; apt-get install -y curl; rm -rf /var/lib/apt/lists/*')).not.toBe(a);
    expect(script('set -e\necho a\necho b')).toBe(script('set -e; echo a; echo b'));
    expect(script('if [ -f x ]; then echo y; fi')).toBe(script('if [ -f x ]\nthen\n  echo y\nfi'));
  });

  it('keeps order where it matters and program names as written', () => {
    expect(script('echo a && echo b')).not.toBe(script('echo b && echo a'));
    expect(script('pip install flask')).not.toBe(script('pip3 install flask'));
    expect(script('cp a b')).not.toBe(script('cp b a'));
  });

  it('puts known variable values in, so $V, "${V}" and the value are equal; unknown ones stay', () => {
    expect(script('pip install "flask==$V"', { V: '3.0.3' })).toBe(script('pip install flask==3.0.3'));
    expect(script('pip install flask==${V}', { V: '3.0.3' })).toBe(script('pip install flask==3.0.3'));
    expect(script("echo '$V'", { V: '1' })).not.toBe(script('echo 1'));
    expect(script('echo $W')).toBe('echo $W');
  });
});

describe('normalizeStage', () => {
  it('keys FROM by the full image name and ignores the stage name', () => {
    expect(keys('FROM python:3.12-slim AS app')[0]).toBe(keys('FROM docker.io/library/python:3.12-slim')[0]);
    expect(keys('ARG V=3.12\nFROM python:${V}-slim')[0]).toBe('FROM docker.io/library/python:3.12-slim');
  });

  it('keys COPY by content digest and absolute destination', () => {
    const a = keys('FROM x\nWORKDIR /app\nCOPY requirements.txt .', { 2: 'sha256:aa' });
    const b = keys('FROM x\nWORKDIR /app\nCOPY ./requirements.txt /app/', { 2: 'sha256:aa' });
    expect(a[2]).toContain('content=sha256:aa');
    expect(a[2]).toContain('dest=/app/');
    expect(b[2]).toContain('dest=/app/');
    expect(keys('FROM x\nCOPY r.txt /app/', { 1: 'sha256:bb' })[1]).not.toBe(keys('FROM x\nCOPY r.txt /app/', { 1: 'sha256:aa' })[1]);
    // No context: the content is unknown and the step is never shared.
    expect(keys('FROM x\nCOPY r.txt /app/')[1]).toContain('unknown:s#1');
  });

  it('resolves ARG and ENV values and sorts ENV definitions', () => {
    expect(keys('FROM x\nENV B=2 A=1')[1]).toBe(keys('FROM x\nENV A=1 B=2')[1]);
    expect(keys('ARG V=1\nFROM x\nARG V\nRUN echo $V')[2]).toBe(keys('FROM x\nRUN echo 1')[1]);
    expect(keys('ARG V=1\nFROM x\nARG V')[1]).toBe('ARG V="1"');
  });

  it('never shares ONBUILD or COPY --from a stage', () => {
    expect(keys('FROM x\nONBUILD RUN echo')[1]).toContain('unique=s#1');
    const df = parseDockerfile('FROM x AS b\nRUN true\nFROM y\nCOPY --from=b /a /a');
    const steps = normalizeStage(df, df.stages[1]!, { service: 'svc', copyDigests: new Map() });
    expect(steps[1]!.key).toContain('from-stage=svc#0');
  });

  it('categorises steps', () => {
    const df = parseDockerfile('FROM x\nRUN apt-get install -y curl\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY models/ /models/\nCOPY . .\nRUN make\nENV A=1');
    const steps = normalizeStage(df, df.stages[0]!, { service: 's', copyDigests: new Map() });
    expect(steps.map((s) => s.category)).toEqual(['from', 'system-packages', 'manifests', 'dependencies', 'model', 'code', 'run', 'config']);
    expect(steps.map((s) => s.layer)).toEqual([false, true, true, true, true, true, true, false]);
    expect(steps[1]!.tools).toEqual(['apt-get']);
  });
});
