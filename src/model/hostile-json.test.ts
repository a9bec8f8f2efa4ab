import { describe, expect, it } from 'vitest';
import { isLayerwiseError } from '../errors.js';
import { parseImageConfig } from './config.js';
import { parseDescriptor } from './descriptor.js';
import { parseDigest } from './digest.js';

const code = (f: () => unknown): string => {
  try {
    f();
    return 'ok';
  } catch (err) {
    return isLayerwiseError(err) ? err.code : `raw ${String((err as Error).message)}`;
  }
};
const D = `sha256:${'a'.repeat(64)}`;

describe('untrusted JSON of the wrong types is refused with a code, never a crash (found by fuzzing)', () => {
  it('a digest that is an object whose toString is not a function', () => {
    expect(code(() => parseDigest({ toString: 0 }))).toBe('DIGEST_INVALID');
    expect(code(() => parseDigest(Object.create(null)))).toBe('DIGEST_INVALID');
  });

  it('descriptor annotations and platforms of the wrong types', () => {
    const d = { mediaType: 'x', digest: D, size: 1 };
    expect(code(() => parseDescriptor({ ...d, annotations: { a: { toString: 0 } } }, 'd'))).toBe('MANIFEST_INVALID');
    expect(code(() => parseDescriptor({ ...d, platform: { os: { toString: 0 }, architecture: 'amd64' } }, 'd'))).toBe('MANIFEST_INVALID');
    expect(code(() => parseDescriptor({ ...d, platform: 'linux/amd64' }, 'd'))).toBe('MANIFEST_INVALID');
    expect(code(() => parseDescriptor({ ...d, annotations: { a: 'b' }, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }, 'd'))).toBe('ok');
  });

  it('config fields that readers use, of the wrong types; Docker\'s nulls are fine', () => {
    const base = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [D] } };
    const parse = (extra: object) => code(() => parseImageConfig(Buffer.from(JSON.stringify({ ...base, ...extra })), 'c'));
    expect(parse({ config: { Env: 5 } })).toBe('CONFIG_INVALID');
    expect(parse({ config: { Cmd: 'sh' } })).toBe('CONFIG_INVALID');
    expect(parse({ config: { Labels: { a: 1 } } })).toBe('CONFIG_INVALID');
    expect(parse({ history: [7] })).toBe('CONFIG_INVALID');
    expect(parse({ history: [{ created_by: { toString: 0 } }] })).toBe('CONFIG_INVALID');
    expect(parse({ variant: {} })).toBe('CONFIG_INVALID');
    expect(parse({ config: { Env: ['A=b'], Cmd: null, Entrypoint: null, Labels: null, Volumes: null, ExposedPorts: { '80/tcp': {} }, OnBuild: null, User: '' }, history: [{ created: '2024-01-01T00:00:00Z', created_by: 'x', empty_layer: true }] })).toBe('ok');
  });
});
