import { describe, expect, it } from 'vitest';
import { interpolate } from './interpolate.js';
import { parseEnvFile, updateEnvText } from './env-file.js';
import { isLayerwiseError } from '../errors.js';

const env = { TAG: '1.0.1', PATCH: '3', EMPTY: '', REG: 'registry.local:5000' };
const code = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return isLayerwiseError(err) ? err.code : 'other';
  }
  return 'none';
};

describe('compose interpolation', () => {
  it('follows compose rules for ${VAR}, defaults, alternatives, $$ and nesting', () => {
    expect(interpolate('app:${TAG}.${PATCH}', env, 'x')).toBe('app:1.0.1.3');
    expect(interpolate('$REG/app:$TAG', env, 'x')).toBe('registry.local:5000/app:1.0.1');
    expect(interpolate('app:${MISSING:-latest}', env, 'x')).toBe('app:latest');
    expect(interpolate('app:${EMPTY:-fallback}', env, 'x')).toBe('app:fallback');
    expect(interpolate('app:${EMPTY-fallback}', env, 'x')).toBe('app:');
    expect(interpolate('app:${MISSING-fallback}', env, 'x')).toBe('app:fallback');
    expect(interpolate('${TAG:+set}-${MISSING:+set}', env, 'x')).toBe('set-');
    expect(interpolate('${MISSING:-${TAG}}', env, 'x')).toBe('1.0.1');
    expect(interpolate('cost $$5', env, 'x')).toBe('cost $5');
  });

  it('refuses unset variables without default, naming where', () => {
    expect(code(() => interpolate('app:${NOPE}', env, 'svc'))).toBe('COMPOSE_VARIABLE_MISSING');
    expect(code(() => interpolate('app:$NOPE', env, 'svc'))).toBe('COMPOSE_VARIABLE_MISSING');
    expect(code(() => interpolate('app:${EMPTY:?must be set}', env, 'svc'))).toBe('COMPOSE_VARIABLE_MISSING');
    expect(code(() => interpolate('app:${TAG', env, 'svc'))).toBe('COMPOSE_INVALID');
    try {
      interpolate('app:${NOPE}', env, 'docker-compose.yml: service api');
    } catch (err) {
      expect((err as Error).message).toContain('service api');
      expect((err as Error).message).toContain('NOPE');
    }
  });
});

describe('.env files', () => {
  it('parses comments, export, quotes and inline comments', () => {
    const parsed = parseEnvFile(['# release', 'export TAG=1.0.0', "QUOTED='a b # c'", 'DQ="line\\nnext"', 'INLINE=v1 # note', '', 'EMPTY='].join('\n'));
    expect(parsed).toEqual({ TAG: '1.0.0', QUOTED: 'a b # c', DQ: 'line\nnext', INLINE: 'v1', EMPTY: '' });
    expect(code(() => parseEnvFile('not a pair'))).toBe('COMPOSE_INVALID');
  });

  it('updates values in place, keeping comments and order, appending new keys', () => {
    const before = '# site settings\nTAG=1.0.0\nOTHER=keep # me\nexport PATCH=1\n';
    const after = updateEnvText(before, { TAG: '1.0.1', PATCH: '2', NEW: 'x y' });
    expect(after).toBe('# site settings\nTAG=1.0.1\nOTHER=keep # me\nexport PATCH=2\nNEW="x y"\n');
    expect(parseEnvFile(after)).toEqual({ TAG: '1.0.1', OTHER: 'keep', PATCH: '2', NEW: 'x y' });
  });
});
