import { describe, expect, it } from 'vitest';
import { chainIds, parseDigest, sha256 } from './digest.js';
import { isLayerwiseError } from '../errors.js';

describe('digest', () => {
  it('accepts sha256 with 64 lowercase hex and nothing else', () => {
    const d = sha256('x');
    expect(parseDigest(d)).toBe(d);
    for (const bad of ['sha256:' + 'A'.repeat(64), 'sha256:' + 'a'.repeat(63), 'sha512:' + 'a'.repeat(64), '../../etc/passwd', 'sha256:../' + 'a'.repeat(61), 'sha256:' + 'a'.repeat(64) + '\n', 42]) {
      let caught: unknown;
      try {
        parseDigest(bad);
      } catch (err) {
        caught = err;
      }
      expect(isLayerwiseError(caught, 'DIGEST_INVALID'), String(bad)).toBe(true);
    }
  });

  it('computes chainIDs as the OCI spec defines them', () => {
    const a = sha256('a');
    const b = sha256('b');
    const c = sha256('c');
    const chains = chainIds([a, b, c]);
    expect(chains[0]).toBe(a);
    expect(chains[1]).toBe(sha256(`${a} ${b}`));
    expect(chains[2]).toBe(sha256(`${chains[1]} ${c}`));
  });
});
