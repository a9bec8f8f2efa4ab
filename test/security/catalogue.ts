import { body, END, gnuLong, paxHeader, rawFile, rawHeader, sizeField, tarOf } from './tarcraft.js';
import type { MemoryEntry } from '../../src/tar/writer.js';

/**
 * The hostile layer catalogue: tars built in memory, each with the stable code every layer reader must
 * refuse it with. `escapeTo` is a path outside the sandbox that a naive extractor would write; tests
 * check it never appears.
 */
export interface HostileLayer {
  id: string;
  title: string;
  tar: Buffer;
  code: string;
  /** 'content': a well-formed tar whose paths are unsafe; 'format': a malformed tar. */
  level: 'content' | 'format';
}

const data = (s: string) => Buffer.from(s);
const f = (path: string, content = 'x'): MemoryEntry => ({ path, type: 'file', mode: 0o644, data: data(content) });
const d = (path: string): MemoryEntry => ({ path, type: 'dir', mode: 0o755 });
const sym = (path: string, linkpath: string): MemoryEntry => ({ path, type: 'symlink', linkpath, mode: 0o777 });
const hard = (path: string, linkpath: string): MemoryEntry => ({ path, type: 'hardlink', linkpath });

/** `sandbox` is an absolute directory the tests watch: absolute names aim at it. */
export function hostileLayers(sandbox: string): HostileLayer[] {
  const abs = `${sandbox}/escaped-absolute`;
  const content = (id: string, title: string, entries: MemoryEntry[], code: string): HostileLayer => ({ id, title, tar: tarOf(entries), code, level: 'content' });
  const format = (id: string, title: string, tar: Buffer, code: string): HostileLayer => ({ id, title, tar, code, level: 'format' });
  const ok = rawFile('ok.txt', data('fine\n'));
  return [
    // Names that climb out or are absolute.
    content('dotdot', '../ path', [f('../../../../escaped-dotdot')], 'TAR_PATH_UNSAFE'),
    content('dotdot-inner', 'a/../../ path', [d('a/'), f('a/../../../escaped-inner')], 'TAR_PATH_UNSAFE'),
    content('backslash-dotdot', '..\\ path', [f('..\\..\\..\\escaped-backslash')], 'TAR_PATH_UNSAFE'),
    content('absolute', 'absolute path into the sandbox', [f(abs)], 'TAR_PATH_UNSAFE'),
    content('slashes', '//// path', [f(`///${abs}`)], 'TAR_PATH_UNSAFE'),
    content('drive-name', 'drive-relative C:..\\x name', [f('C:..\\..\\escaped-drive')], 'TAR_PATH_UNSAFE'),
    content('drive-link', 'drive-relative C:..\\x symlink target', [sym('win', 'C:..\\..\\escaped')], 'TAR_LINK_UNSAFE'),
    content('backslash-link', '..\\ symlink target', [sym('win', '..\\..\\escaped')], 'TAR_LINK_UNSAFE'),
    // Symlinks and what goes through them.
    content('symlink-write', 'symlink pointing out, then a write through it', [sym('out', sandbox), f('out/escaped-through-symlink')], 'TAR_LINK_UNSAFE'),
    content('symlink-relative-write', 'relative symlink climbing out, then a write through it', [sym('up', '../../../../..'), f(`up${sandbox}/escaped-up`)], 'TAR_LINK_UNSAFE'),
    content('dir-to-symlink', 'a directory replaced by a symlink of the same name', [d('etc/'), f('etc/ok'), sym('etc', sandbox), f('etc/escaped-replaced')], 'TAR_DUPLICATE_ENTRY'),
    content('case-symlink', 'case collision: symlink "Out", write through "out/"', [sym('Out', sandbox), f('out/escaped-case')], 'TAR_LINK_UNSAFE'),
    content('nfc-symlink', 'Unicode normalisation collision: symlink "é" (NFC), write through "é" (NFD)', [sym('caf\u00e9', sandbox), f('cafe\u0301/escaped-nfc')], 'TAR_LINK_UNSAFE'),
    content('symlink-dot', 'a symlink named "."', [sym('.', sandbox), f('escaped-dot')], 'TAR_PATH_UNSAFE'),
    content('symlink-dot-slash', 'a symlink named "./"', [{ ...sym('x', sandbox), path: './' }], 'TAR_PATH_UNSAFE'),
    // Hardlinks.
    content('hardlink-abs', 'hardlink out of the root (absolute)', [hard('shadow', '/etc/shadow')], 'TAR_LINK_UNSAFE'),
    content('hardlink-dotdot', 'hardlink through ..', [f('a'), hard('h', 'x/../../../etc/shadow')], 'TAR_LINK_UNSAFE'),
    content('hardlink-symlink-chain', 'hardlink through a symlink chain', [sym('s1', 's2'), sym('s2', '/etc'), hard('h', 's1/shadow')], 'TAR_LINK_UNSAFE'),
    content('hardlink-before', 'hardlink before its target', [hard('h', 'target'), f('target')], 'TAR_LINK_UNSAFE'),
    content('hardlink-missing', 'hardlink to a file of a lower layer (not in this tar)', [hard('h', 'etc/passwd')], 'TAR_LINK_UNSAFE'),
    content('hardlink-dir', 'hardlink to a directory', [d('dir/'), hard('h', 'dir')], 'TAR_LINK_UNSAFE'),
    // Whiteouts.
    content('wh-dot', '.wh.. (whiteout of its own directory)', [d('app/'), f('app/.wh..', '')], 'WHITEOUT_INVALID'),
    content('wh-dotdot', '.wh... (whiteout of the parent)', [d('app/'), f('app/.wh...', '')], 'WHITEOUT_INVALID'),
    content('wh-bare', 'bare .wh.', [f('.wh.', '')], 'WHITEOUT_INVALID'),
    content('wh-symlink', 'a whiteout that is a symlink', [sym('.wh.etc', sandbox)], 'WHITEOUT_INVALID'),
    content('wh-through-symlink', 'whiteout through a symlink', [sym('out', sandbox), f('out/.wh.victim', '')], 'TAR_LINK_UNSAFE'),
    content('opaque-through-symlink', 'opaque whiteout through a symlink', [sym('out', sandbox), f('out/.wh..wh..opq', '')], 'TAR_LINK_UNSAFE'),
    content('wh-after', 'whiteout after the file it deletes', [d('app/'), f('app/x'), f('app/.wh.x', '')], 'WHITEOUT_INVALID'),
    content('opaque-after', 'opaque whiteout after entries it would hide', [d('app/'), f('app/new'), f('app/.wh..wh..opq', '')], 'WHITEOUT_INVALID'),
    // Duplicates.
    content('dup-dot', 'duplicate entries ./a and a', [f('./a', 'one'), f('a', 'two')], 'TAR_DUPLICATE_ENTRY'),
    content('dup-kinds', 'a file, then a symlink of the same name', [f('bin/sh'), sym('bin/sh', '/bin/busybox')], 'TAR_DUPLICATE_ENTRY'),
    content('below-file', 'a path below a file of the same layer', [f('a'), f('a/b')], 'TAR_PATH_UNSAFE'),
    // Limits.
    content('deep', '1025 directories deep', [f('d/'.repeat(1025) + 'x')], 'TAR_PATH_UNSAFE'),
    // Malformed archives.
    format('pax-huge', 'PAX header over 1 MiB', Buffer.concat([paxHeader([['comment', 'x'.repeat(1100 * 1024)]]), ok, END]), 'TAR_HEADER_TOO_LARGE'),
    format('gnu-huge', 'GNU long name over 1 MiB', Buffer.concat([gnuLong('L', Buffer.alloc(1100 * 1024, 0x61)), ok, END]), 'TAR_HEADER_TOO_LARGE'),
    format('gnu-sparse', 'GNU sparse entry', Buffer.concat([rawHeader({ name: 'sparse', typeflag: 'S', magic: 'gnu', size: sizeField(512) }), Buffer.alloc(512), END]), 'TAR_UNSUPPORTED_ENTRY'),
    format('pax-sparse', 'PAX sparse map', Buffer.concat([paxHeader([['GNU.sparse.map', '0,512'], ['GNU.sparse.size', '1048576']]), rawFile('sparse', Buffer.alloc(512)), END]), 'TAR_UNSUPPORTED_ENTRY'),
    format('pax-size-disagree', 'PAX size disagrees with the ustar size', Buffer.concat([paxHeader([['size', '2048']]), rawFile('a', Buffer.alloc(512)), Buffer.alloc(1536), END]), 'TAR_INVALID_HEADER'),
    format('pax-size-garbage', 'PAX size that is not a number', Buffer.concat([paxHeader([['size', '-1']]), rawHeader({ name: 'a' }), END]), 'TAR_INVALID_HEADER'),
    format('pax-nul', 'NUL inside a PAX path', Buffer.concat([paxHeader([['path', Buffer.from('ok\0../../escaped-nul')]]), rawFile('ok', data('x')), END]), 'TAR_PATH_UNSAFE'),
    format('gnu-nul', 'NUL inside a GNU long name', Buffer.concat([gnuLong('L', Buffer.from('ok\0../../escaped-nul')), rawFile('ok', data('x')), END]), 'TAR_PATH_UNSAFE'),
    format('empty-name', 'an entry with an empty name', Buffer.concat([rawFile('', data('x')), END]), 'TAR_PATH_UNSAFE'),
    format('negative-size', 'negative base-256 size', Buffer.concat([rawHeader({ name: 'neg', size: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0]) }), END]), 'TAR_INVALID_HEADER'),
    format('base256-huge', 'base-256 size past 2^53', Buffer.concat([rawHeader({ name: 'big', size: Buffer.from([0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) }), END]), 'TAR_INVALID_HEADER'),
    format('base256-lie', 'base-256 size of 4 GiB over a few bytes of data', Buffer.concat([rawHeader({ name: 'big', size: Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]) }), body(data('short')), END]), 'TAR_TRUNCATED'),
    format('size-garbage', 'non-octal size field', Buffer.concat([rawHeader({ name: 'a', size: '00000000x12' }), END]), 'TAR_INVALID_HEADER'),
    format('bad-checksum', 'header checksum off by one', Buffer.concat([rawHeader({ name: 'a', checksum: 'bad' }), END]), 'TAR_BAD_CHECKSUM'),
    format('symlink-data', 'symlink header declaring data (hidden bytes)', Buffer.concat([rawHeader({ name: 'l', typeflag: '2', linkname: 'x', size: sizeField(512) }), Buffer.alloc(512), END]), 'TAR_INVALID_HEADER'),
    format('unknown-type', 'unknown entry type', Buffer.concat([rawFile('weird', data('x'), { typeflag: 'Z' }), END]), 'TAR_UNSUPPORTED_ENTRY'),
    format('truncated', 'truncated inside an entry', Buffer.concat([rawFile('big', Buffer.alloc(4096, 1))]).subarray(0, 2048), 'TAR_TRUNCATED'),
    format('truncated-block', 'truncated inside a header block', Buffer.concat([ok, rawHeader({ name: 'b' })]).subarray(0, ok.length + 100), 'TAR_TRUNCATED'),
    format('trailing', 'data after the end-of-archive marker', Buffer.concat([ok, END, rawFile('smuggled', data('hidden'))]), 'TAR_TRAILING_DATA'),
    format('ext-then-end', 'end marker right after an extension header', Buffer.concat([paxHeader([['path', 'x']]), END]), 'TAR_INVALID_HEADER'),
  ];
}

/** Paths a naive extractor of the catalogue would create: none may ever exist. */
export function escapeNames(): string[] {
  return ['escaped-absolute', 'escaped-dotdot', 'escaped-inner', 'escaped-backslash', 'escaped-drive', 'escaped', 'escaped-through-symlink', 'escaped-up', 'escaped-replaced', 'escaped-case', 'escaped-nfc', 'escaped-dot', 'escaped-nul'];
}
