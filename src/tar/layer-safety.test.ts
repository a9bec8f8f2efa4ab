import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isLayerwiseError } from '../errors.js';
import { checkLayerEntries, LayerSafety, LayerSafetyStream, readLayerTar, type LayerEntryInfo } from './layer-safety.js';
import type { TarEntry } from './reader.js';
import { tarFromEntries, type MemoryEntry } from './writer.js';

type E = Partial<LayerEntryInfo> & { path: string };
const f = (path: string): E => ({ path, type: 'file' });
const d = (path: string): E => ({ path, type: 'dir' });
const sym = (path: string, linkpath: string): E => ({ path, type: 'symlink', linkpath });
const hard = (path: string, linkpath: string): E => ({ path, type: 'hardlink', linkpath });

/** The code the first refused entry gets, or 'ok'. */
function verdict(entries: E[]): string {
  const s = new LayerSafety('layer');
  try {
    for (const e of entries) s.check({ linkpath: '', type: 'file', ...e });
    return 'ok';
  } catch (err) {
    if (!isLayerwiseError(err)) throw err;
    expect(err.message).toMatch(/^layer: entry \d+[: ]/);
    return err.code;
  }
}

describe('layer safety: what real layers contain is accepted', () => {
  it('accepts the shapes docker, buildkit and debootstrap layers have', () => {
    expect(
      verdict([
        d('./'),
        d('./etc/'),
        f('./etc/passwd'),
        sym('./bin', 'usr/bin'),
        sym('./etc/alternatives/editor', '/usr/bin/vim.basic'),
        sym('usr/lib/x86_64-linux-gnu/libz.so', '../../../lib/x86_64-linux-gnu/libz.so.1'),
        { path: 'dev/null', type: 'char' },
        { path: 'run/initctl', type: 'fifo' },
        f('usr/share/man/man7/PAM.7.gz'),
        sym('usr/share/man/man7/pam.7.gz', 'PAM.7.gz'), // a case pair, as in Debian: allowed
        f('usr/bin/perl5.36.0'),
        hard('usr/bin/perl', 'usr/bin/perl5.36.0'),
        hard('./usr/bin/perl2', './usr/bin/perl5.36.0'),
        hard('usr/bin/perl-link', 'usr/share/man/man7/pam.7.gz'), // a hardlink to a symlink names the link itself
        d('etc/'), // a directory repeated as a directory
        f('a\\x2dname.slice'), // systemd escapes: a backslash is an ordinary character on Linux
      ]),
    ).toBe('ok');
  });

  it('accepts whiteouts before what the layer writes in their place, opaque markers first, AUFS metadata', () => {
    expect(verdict([d('app/'), f('app/.wh..wh..opq'), f('app/.wh.old'), f('app/new'), f('.wh.tmp'), d('tmp/'), f('tmp/x')])).toBe('ok');
    expect(verdict([d('.wh..wh.plnk/'), f('.wh..wh.plnk/1.2'), f('.wh..wh.aufs')])).toBe('ok');
    expect(verdict([f('.wh..wh..opq'), f('a')])).toBe('ok');
    expect(verdict([hard('x/.wh.y', 'z')])).toBe('TAR_LINK_UNSAFE');
    expect(verdict([f('z'), hard('x/.wh.y', 'z')])).toBe('ok');
  });
});

describe('layer safety: refusals with stable codes', () => {
  const cases: [string, E[], string][] = [
    ['../ climbing out', [f('../evil')], 'TAR_PATH_UNSAFE'],
    ['../ in the middle', [f('a/../../evil')], 'TAR_PATH_UNSAFE'],
    ['..\\ climbing out', [f('..\\evil')], 'TAR_PATH_UNSAFE'],
    ['a\\..\\..\\ climbing out', [f('a\\..\\..\\evil')], 'TAR_PATH_UNSAFE'],
    ['absolute', [f('/etc/passwd')], 'TAR_PATH_UNSAFE'],
    ['absolute ////', [f('////etc/passwd')], 'TAR_PATH_UNSAFE'],
    ['drive-relative name', [f('C:..\\evil')], 'TAR_PATH_UNSAFE'],
    ['drive-absolute name', [f('c:/windows/evil')], 'TAR_PATH_UNSAFE'],
    ['NUL in a name', [f('a\0b')], 'TAR_PATH_UNSAFE'],
    ['deep path', [f('d/'.repeat(1025) + 'x')], 'TAR_PATH_UNSAFE'],
    ['long path', [f('n'.repeat(5000))], 'TAR_PATH_UNSAFE'],
    ['a symlink named .', [sym('.', '/etc')], 'TAR_PATH_UNSAFE'],
    ['a symlink named ./', [sym('./', '/etc')], 'TAR_PATH_UNSAFE'],
    ['a file named a/.', [f('a/.')], 'TAR_PATH_UNSAFE'],
    ['unknown entry type', [{ path: 'x', type: 'unknown' }], 'TAR_UNSUPPORTED_ENTRY'],
    ['a write through a symlink pointing out', [sym('escape', '/etc'), f('escape/passwd')], 'TAR_LINK_UNSAFE'],
    ['a write through a relative symlink pointing out', [sym('up', '../../../..'), f('up/tmp/evil')], 'TAR_LINK_UNSAFE'],
    ['a write through a symlink in another case', [sym('Escape', '/etc'), f('escape/passwd')], 'TAR_LINK_UNSAFE'],
    ['a write through a symlink in another Unicode normalisation', [sym('caf\u00e9', '/etc'), f('cafe\u0301/passwd')], 'TAR_LINK_UNSAFE'],
    ['a directory replaced by a symlink of the same name', [d('dir/'), sym('dir', '/etc'), f('dir/passwd')], 'TAR_DUPLICATE_ENTRY'],
    ['a directory made by entries, then a symlink there', [f('dir/a'), sym('dir', '/etc')], 'TAR_DUPLICATE_ENTRY'],
    ['a path below a file of the same layer', [f('a'), f('a/b')], 'TAR_PATH_UNSAFE'],
    ['a symlink to C:..\\', [sym('l', 'C:..\\..\\evil')], 'TAR_LINK_UNSAFE'],
    ['a symlink to ..\\', [sym('l', '..\\..\\evil')], 'TAR_LINK_UNSAFE'],
    ['a symlink without a target', [sym('l', '')], 'TAR_LINK_UNSAFE'],
    ['a hardlink out of the root (absolute)', [hard('h', '/etc/shadow')], 'TAR_LINK_UNSAFE'],
    ['a hardlink through ..', [f('a'), hard('h', 'x/../a')], 'TAR_LINK_UNSAFE'],
    ['a hardlink climbing out', [hard('h', '../../etc/shadow')], 'TAR_LINK_UNSAFE'],
    ['a hardlink drive-relative', [hard('h', 'C:..\\x')], 'TAR_LINK_UNSAFE'],
    ['a hardlink through a symlink chain', [sym('s1', 's2'), sym('s2', '/etc'), hard('h', 's1/shadow')], 'TAR_LINK_UNSAFE'],
    ['a hardlink before its target', [hard('h', 'a'), f('a')], 'TAR_LINK_UNSAFE'],
    ['a hardlink to a directory', [d('a/'), hard('h', 'a')], 'TAR_LINK_UNSAFE'],
    ['a hardlink to itself', [hard('h', 'h')], 'TAR_LINK_UNSAFE'],
    ['a hardlink to the root', [hard('h', './')], 'TAR_LINK_UNSAFE'],
    ['duplicate ./a and a', [f('./a'), f('a')], 'TAR_DUPLICATE_ENTRY'],
    ['duplicate a and a//', [f('a'), sym('a//', 'b')], 'TAR_DUPLICATE_ENTRY'],
    ['duplicate dir then file', [d('a/'), f('a')], 'TAR_DUPLICATE_ENTRY'],
    ['bare .wh.', [f('dir/.wh.')], 'WHITEOUT_INVALID'],
    ['.wh..', [f('dir/.wh..')], 'WHITEOUT_INVALID'],
    ['.wh...', [f('dir/.wh...')], 'WHITEOUT_INVALID'],
    ['a whiteout that is a symlink', [sym('.wh.x', '/etc')], 'WHITEOUT_INVALID'],
    ['a whiteout that is a directory', [d('.wh.x/')], 'WHITEOUT_INVALID'],
    ['a whiteout through a symlink', [sym('l', '/etc'), f('l/.wh.passwd')], 'TAR_LINK_UNSAFE'],
    ['an opaque marker through a symlink', [sym('l', '/etc'), f('l/.wh..wh..opq')], 'TAR_LINK_UNSAFE'],
    ['a whiteout after the entry it deletes', [f('a/x'), f('a/.wh.x')], 'WHITEOUT_INVALID'],
    ['a whiteout after entries under what it deletes', [f('a/x/y'), f('a/.wh.x')], 'WHITEOUT_INVALID'],
    ['an opaque marker after entries it would hide', [d('a/'), f('a/x'), f('a/.wh..wh..opq')], 'WHITEOUT_INVALID'],
    ['an opaque marker at the root after root entries', [f('x'), f('.wh..wh..opq')], 'WHITEOUT_INVALID'],
    ['two opaque markers', [f('a/.wh..wh..opq'), f('a/.wh..wh..opq')], 'TAR_DUPLICATE_ENTRY'],
  ];
  for (const [name, entries, code] of cases) {
    it(name, () => expect(verdict(entries)).toBe(code));
  }
});

describe('layer safety over tar streams', () => {
  const hostile: MemoryEntry[] = [
    { path: 'escape', type: 'symlink', linkpath: '/etc' },
    { path: 'escape/passwd', type: 'file', data: Buffer.from('root::0:0::/:/bin/sh\n') },
  ];
  const tar = tarFromEntries(hostile);

  it('readLayerTar refuses at the entry', async () => {
    let caught: unknown;
    try {
      for await (const _ of readLayerTar(Readable.from([tar]), { subject: 'l' })) {
        // read
      }
    } catch (err) {
      caught = err;
    }
    expect(isLayerwiseError(caught, 'TAR_LINK_UNSAFE')).toBe(true);
  });

  it('LayerSafetyStream fails the stream, and passes a safe layer through unchanged', async () => {
    const out: Buffer[] = [];
    const sink = new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) });
    await expect(pipeline(Readable.from([tar]), new LayerSafetyStream('l'), sink)).rejects.toMatchObject({ code: 'TAR_LINK_UNSAFE' });
    const safe = tarFromEntries([{ path: 'a/', type: 'dir' }, { path: 'a/b', type: 'file', data: Buffer.from('b') }]);
    out.length = 0;
    await pipeline(Readable.from([safe.subarray(0, 700), safe.subarray(700)]), new LayerSafetyStream('l'), new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }));
    expect(Buffer.concat(out).equals(safe)).toBe(true);
    await expect(pipeline(Readable.from([safe.subarray(0, 600)]), new LayerSafetyStream('l'), new Writable({ write: (_c, _e, cb) => cb() }))).rejects.toMatchObject({ code: 'TAR_TRUNCATED' });
  });

  it('checkLayerEntries checks parsed entries in order', () => {
    const entries = [{ path: 'h', linkpath: 'a', type: 'hardlink' }, { path: 'a', linkpath: '', type: 'file' }] as TarEntry[];
    expect(() => checkLayerEntries(entries, 'l')).toThrow(/not an earlier entry/);
  });
});
