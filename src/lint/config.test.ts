import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLayerwiseError } from '../errors.js';
import { loadConfig, parseConfig } from './config.js';
import { DEFAULT_CONFIG } from './types.js';

const dir = mkdtempSync('/tmp/lw-lintcfg-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const code = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return isLayerwiseError(err) ? err.code : String(err);
  }
  return 'no error';
};

describe('.layerwise.yml lint section', () => {
  it('reads every key and normalises ids', () => {
    const c = parseConfig('analyze:\n  anything: [1, 2]\nlint:\n  failOn: error\n  disable: [lw103, LW301]\n  severity:\n    lw105: warning\n  trustedRegistries: [Docker.io, ghcr.io]\n');
    expect(c).toEqual({ failOn: 'error', disable: ['LW103', 'LW301'], severity: { LW105: 'warning' }, trustedRegistries: ['docker.io', 'ghcr.io'] });
  });

  it('defaults when the file or the section is empty, and accepts never/none', () => {
    expect(parseConfig('')).toEqual(DEFAULT_CONFIG);
    expect(parseConfig('analyze: {}\n')).toEqual(DEFAULT_CONFIG);
    expect(parseConfig('lint:\n  failOn: none\n').failOn).toBe('never');
  });

  it.each([
    ['lint:\n  failOn: sometimes\n', /severity must be one of/],
    ['lint:\n  disable: LW101\n', /lint.disable must be a list/],
    ['lint:\n  disable: [LW999]\n', /unknown rule "LW999"/],
    ['lint:\n  severity: { LW101: fatal }\n', /severity must be one of/],
    ['lint:\n  ignore: [LW101]\n', /unknown key lint.ignore/],
    ['lint: [1]\n', /"lint" must be a mapping/],
    ['- a\n- b\n', /must be a mapping/],
    ['lint:\n  failOn: [\n', /not valid YAML/],
  ])('refuses %j with a one-line LINT_CONFIG_INVALID error', (text, msg) => {
    expect(code(() => parseConfig(text))).toBe('LINT_CONFIG_INVALID');
    expect(() => parseConfig(text)).toThrow(msg);
  });

  it('loads ./.layerwise.yml when present, an explicit file otherwise, and fails on a missing explicit file', async () => {
    expect(await loadConfig(undefined, dir)).toEqual(DEFAULT_CONFIG);
    writeFileSync(path.join(dir, '.layerwise.yml'), 'lint:\n  failOn: info\n');
    expect((await loadConfig(undefined, dir)).failOn).toBe('info');
    writeFileSync(path.join(dir, 'other.yml'), 'lint:\n  disable: [LW401]\n');
    expect((await loadConfig(path.join(dir, 'other.yml'), dir)).disable).toEqual(['LW401']);
    await expect(loadConfig(path.join(dir, 'missing.yml'), dir)).rejects.toMatchObject({ code: 'IO' });
  });
});
