import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseChallenges, pickChallenge } from './challenge.js';

describe('WWW-Authenticate parsing', () => {
  it('reads a Bearer challenge with quoted parameters, including a space-separated scope', () => {
    const v = 'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull repository:c:pull,push",error="insufficient_scope"';
    expect(parseChallenges(v)).toEqual([
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull repository:c:pull,push', error: 'insufficient_scope' },
      },
    ]);
  });

  it('splits several challenges joined into one header, and prefers Bearer', () => {
    const cs = parseChallenges('Basic realm="Registry Realm", Bearer realm="https://t/x",service=s');
    expect(cs.map((c) => c.scheme)).toEqual(['basic', 'bearer']);
    expect(cs[1]!.params).toEqual({ realm: 'https://t/x', service: 's' });
    expect(pickChallenge(cs)?.scheme).toBe('bearer');
    expect(pickChallenge(parseChallenges('Basic realm="r"'))?.scheme).toBe('basic');
    expect(pickChallenge(parseChallenges('Negotiate'))).toBeUndefined();
  });

  it('handles escapes, unquoted values, odd spacing and case', () => {
    expect(parseChallenges('BEARER  Realm = "a\\"b" , Service=svc')).toEqual([{ scheme: 'bearer', params: { realm: 'a"b', service: 'svc' } }]);
    expect(parseChallenges('')).toEqual([]);
    expect(parseChallenges(undefined)).toEqual([]);
  });

  it('never throws or loops on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const cs = parseChallenges(s);
        expect(Array.isArray(cs)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
