import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDockerfile } from '../dockerfile/parse.js';
import { BuildContext } from './context.js';
import { normalizeStage } from './normalize.js';
import { reorderStage } from './reorder.js';

const root = mkdtempSync('/tmp/lw-plan-reorder-');
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A build context with these files, and the stage's steps after reordering. */
async function reorder(dockerfile: string, files: Record<string, string> = {}, withContext = true) {
  const dir = path.join(root, String(n++));
  mkdirSync(dir);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
  const df = parseDockerfile(dockerfile);
  const ctx = withContext ? await BuildContext.open(dir) : undefined;
  const steps = normalizeStage(df, df.stages[0]!, { service: 's', copyDigests: new Map() });
  const r = await reorderStage({ service: 's', stage: 0, df, steps, context: ctx });
  return { texts: r.steps.map((s) => s.text), notes: r.notes, steps: r.steps };
}

const PIP = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nCMD ["python", "app.py"]\n';
const NPM = 'FROM node:20\nWORKDIR /app\nCOPY --chown=node:node . .\nRUN npm ci && npm cache clean --force\nCMD ["node", "index.js"]\n';
const PKG = JSON.stringify({ name: 'x', dependencies: { express: '4.19.2' } });

describe('manifest hoist', () => {
  it('moves pip install -r before COPY . . with a COPY of the requirement file', async () => {
    const r = await reorder(PIP, { 'requirements.txt': 'flask==3.0.3\n# a comment\n\ngunicorn==22.0.0 ; python_version >= "3.8"\n', 'app.py': '' });
    expect(r.texts).toEqual(['FROM python:3.12-slim', 'WORKDIR /app', 'COPY requirements.txt ./', 'RUN pip install --no-cache-dir -r requirements.txt', 'COPY . .', 'CMD ["python", "app.py"]']);
    expect(r.notes).toHaveLength(1);
    expect(r.notes[0]!.applied).toBe(true);
    // The planner-made COPY is keyed by the file's content, like a COPY written by hand.
    expect(r.steps[2]!.key).toMatch(/^COPY sources=\["requirements.txt"\] content=sha256:[0-9a-f]{64} dest=\/app\/$/);
    expect(r.steps[2]!.contextTarSize).toBe(1024 + 512 + 512 + 512);
  });

  it('moves npm ci with the lock file, .npmrc and the COPY flags', async () => {
    const r = await reorder(NPM, { 'package.json': PKG, 'package-lock.json': '{}', '.npmrc': 'fund=false\n', 'index.js': '' });
    expect(r.texts.slice(2, 5)).toEqual(['COPY --chown=node:node package.json package-lock.json .npmrc ./', 'RUN npm ci && npm cache clean --force', 'COPY --chown=node:node . .']);
  });

  it('refuses what could read or write other files, and says why', async () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      [PIP, { 'requirements.txt': '-e .\n' }, /refers to other local files \(-e \.\)/],
      [PIP, { 'requirements.txt': '-r base.txt\n', 'base.txt': 'flask\n' }, /refers to other local files/],
      [PIP, { 'requirements.txt': './libs/thing\n' }, /refers to other local files/],
      [PIP, {}, /requirements.txt is not in the build context/],
      [PIP.replace('-r requirements.txt', '-r requirements.txt .'), { 'requirements.txt': 'flask\n' }, /besides requirement files/],
      [PIP.replace('-r requirements.txt', '-r reqs/prod.txt'), { 'reqs/prod.txt': 'flask\n' }, /in a subfolder/],
      [PIP.replace('WORKDIR /app\nCOPY . .', 'WORKDIR /srv\nCOPY . /app/'), { 'requirements.txt': 'flask\n' }, /runs in \/srv, not in \/app/],
      [PIP.replace('RUN pip', 'RUN --mount=type=bind,target=/x pip'), { 'requirements.txt': 'flask\n' }, /--mount/],
      [PIP.replace('RUN pip install --no-cache-dir -r requirements.txt', 'RUN pip install -r requirements.txt | tee log'), { 'requirements.txt': 'flask\n' }, /pipes/],
      [PIP.replace('RUN pip install --no-cache-dir -r requirements.txt', 'RUN pip install -r requirements.txt && python setup.py build'), { 'requirements.txt': 'flask\n' }, /runs python/],
      [NPM.replace('npm ci', 'npm install'), { 'package.json': PKG, 'package-lock.json': '{}' }, /npm install may rewrite package-lock.json/],
      [NPM, { 'package.json': JSON.stringify({ scripts: { postinstall: 'node build.js' } }), 'package-lock.json': '{}' }, /postinstall scripts/],
      [NPM, { 'package.json': JSON.stringify({ workspaces: ['a'] }), 'package-lock.json': '{}' }, /workspaces/],
      [NPM, { 'package.json': JSON.stringify({ dependencies: { lib: 'file:../lib' } }), 'package-lock.json': '{}' }, /local path/],
      [NPM, { 'package.json': PKG }, /no package-lock.json/],
      [NPM, { 'package.json': PKG, 'package-lock.json': '{}', 'node_modules/x/index.js': '' }, /node_modules/],
      ['FROM python:3\nENV PIP_TARGET=/app/lib\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n', { 'requirements.txt': 'flask\n' }, /PIP_TARGET is set/],
    ];
    for (const [dockerfile, files, reason] of cases) {
      const r = await reorder(dockerfile, files);
      expect(r.texts, reason.source).toEqual(parseDockerfile(dockerfile).instructions.map((i) => i.text));
      expect(r.notes.map((x) => x.reason).join('\n'), reason.source).toMatch(reason);
      expect(r.notes.every((x) => !x.applied)).toBe(true);
    }
  });

  it('keeps the node_modules check when .dockerignore leaves node_modules out', async () => {
    const r = await reorder(NPM, { 'package.json': PKG, 'package-lock.json': '{}', 'node_modules/x/index.js': '', '.dockerignore': 'node_modules\n' });
    expect(r.notes[0]!.applied).toBe(true);
  });

  it('refuses without a build context, and never moves across an ENV', async () => {
    const none = await reorder(PIP, {}, false);
    expect(none.notes[0]!.reason).toMatch(/build context is not available/);
    const env = await reorder('FROM python:3\nWORKDIR /app\nCOPY . .\nENV PIP_INDEX_URL=https://pypi.example.com/simple\nRUN pip install -r requirements.txt\n', { 'requirements.txt': 'flask\n' });
    expect(env.texts[2]).toBe('COPY . .');
    expect(env.notes).toEqual([]);
  });
});

describe('package hoist', () => {
  it('moves an install of named packages above application COPYs', async () => {
    const r = await reorder('FROM python:3\nCOPY app.py /app/\nEXPOSE 80\nRUN pip install --no-cache-dir flask==3.0.3\nCMD ["python", "/app/app.py"]\n', { 'app.py': '' });
    expect(r.texts).toEqual(['FROM python:3', 'RUN pip install --no-cache-dir flask==3.0.3', 'COPY app.py /app/', 'EXPOSE 80', 'CMD ["python", "/app/app.py"]']);
  });

  it('does not move it above a COPY into a system folder, a local path install or another RUN', async () => {
    for (const dockerfile of [
      'FROM debian\nCOPY sources.list /etc/apt/\nRUN apt-get update && apt-get install -y curl\n',
      'FROM python:3\nCOPY wheels/ /app/wheels/\nRUN pip install /app/wheels/x.whl\n',
      'FROM python:3\nCOPY app.py /app/\nRUN pip install -r /app/requirements.txt\n',
      'FROM python:3\nCOPY app.py /app/\nRUN python /app/app.py && pip install flask\n',
      'FROM python:3\nCOPY setup.sh /app/\nRUN /app/setup.sh\nRUN apt-get install -y curl\n',
    ]) {
      const r = await reorder(dockerfile, { 'sources.list': '', 'app.py': '', 'setup.sh': '', 'wheels/x.whl': '' });
      expect(r.texts, dockerfile).toEqual(parseDockerfile(dockerfile).instructions.map((i) => i.text));
    }
  });
});

describe('metadata last', () => {
  it('moves LABEL and EXPOSE after the last layer step unless they use variables', async () => {
    const r = await reorder('FROM x\nLABEL version=1.2.3\nEXPOSE 80\nLABEL built=$DATE\nRUN make\nCMD ["run"]\n');
    expect(r.texts).toEqual(['FROM x', 'LABEL built=$DATE', 'RUN make', 'CMD ["run"]', 'LABEL version=1.2.3', 'EXPOSE 80']);
  });
});
