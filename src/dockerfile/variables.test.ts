import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { expandWord, hasVariables, splitWords, substitute } from './variables.js';

const vars: Record<string, string> = { A: 'alpha', E: '', P: '/usr/local/lib/python3.12', T: '3.12-slim' };
const lookup = (n: string) => vars[n];

describe('expandWord (Docker frontend substitution)', () => {
  it.each([
    ['$A', 'alpha', []],
    ['${A}', 'alpha', []],
    ['x${A}y', 'xalphay', []],
    ['$A$A', 'alphaalpha', []],
    ['${U}', '', ['U']],
    ['$U/bin', '/bin', ['U']],
    ['${U:-def}', 'def', []],
    ['${E:-def}', 'def', []],
    ['${E-def}', '', []],
    ['${U-def}', 'def', []],
    ['${A:-def}', 'alpha', []],
    ['${A:+alt}', 'alt', []],
    ['${E:+alt}', '', []],
    ['${E+alt}', 'alt', []],
    ['${U+alt}', '', []],
    ['${U:-${A}}', 'alpha', []],
    ['${U:-${V}}', '', ['V']],
    ['${A:-${V}}', 'alpha', []],
    ['${U:?required}', '', ['U']],
    ['${P#*/}', 'usr/local/lib/python3.12', []],
    ['${P##*/}', 'python3.12', []],
    ['${P%/*}', '/usr/local/lib', []],
    ['${P%%/lib*}', '/usr/local', []],
    ['${T/slim/alpine}', '3.12-alpine', []],
    ['${A//a/A}', 'AlphA', []],
    ["'$A'", '$A', []],
    ['"$A b"', 'alpha b', []],
    ['\\$A', '$A', []],
    ['"\\$A"', '$A', []],
    ['a\\ b', 'a b', []],
    ['$', '$', []],
    ['$1', '$1', []],
    ['cost: 5$', 'cost: 5$', []],
  ])('%s -> %s', (input, want, unresolved) => {
    expect(expandWord(input, lookup)).toEqual({ value: want, unresolved });
  });

  it('uses the escape character set by the escape directive', () => {
    expect(expandWord('C:\\app`$A', lookup, '`')).toEqual({ value: 'C:\\app$A', unresolved: [] });
  });

  it('substitute keeps quotes for a shell to read later', () => {
    expect(substitute(`pip install "flask==$A" 'x $A'`, lookup).value).toBe(`pip install "flask==alpha" 'x $A'`);
  });

  it('never throws and returns text without variables unchanged', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = expandWord(s, lookup);
        if (!/[$'"\\]/.test(s)) expect(r.value).toBe(s);
      }),
    );
  });
});

describe('splitWords', () => {
  it('splits on unquoted whitespace and keeps quotes for expandWord', () => {
    expect(splitWords(`a "b c" 'd e'  f\\ g`).map((w) => w.text)).toEqual(['a', '"b c"', "'d e'", 'f\\ g']);
    expect(splitWords(`  x  y`).map((w) => w.start)).toEqual([2, 5]);
  });
});

describe('hasVariables', () => {
  it('finds substitutions outside single quotes', () => {
    expect(hasVariables('a $B')).toBe(true);
    expect(hasVariables("'$B'")).toBe(false);
    expect(hasVariables('\\$B')).toBe(false);
  });
});
