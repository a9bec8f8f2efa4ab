import { BLOCK, paddingFor } from '../../src/tar/header.js';
import { setChecksum, tarFromEntries, type MemoryEntry } from '../../src/tar/writer.js';

/**
 * Byte-level tar building for hostile inputs the normal writer refuses to make: any header field can be
 * set raw, checksums can be wrong, sizes can lie. Everything is built in memory; no fixture files.
 */
export interface RawHeader {
  name?: string | Buffer;
  mode?: string;
  uid?: string;
  gid?: string;
  /** The 12-byte size field: an octal string, or raw bytes (base-256, garbage). */
  size?: string | Buffer;
  mtime?: string;
  typeflag?: string;
  linkname?: string;
  magic?: 'ustar' | 'gnu' | 'v7';
  prefix?: string;
  /** 'ok' (default), 'bad' (off by one), or an exact octal string. */
  checksum?: 'ok' | 'bad' | string;
}

function put(b: Buffer, value: string | Buffer, at: number, len: number): void {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  bytes.copy(b, at, 0, Math.min(len, bytes.length));
}

const octal = (n: number, width: number) => n.toString(8).padStart(width - 1, '0');

/** One 512-byte header block. */
export function rawHeader(h: RawHeader): Buffer {
  const b = Buffer.alloc(BLOCK);
  put(b, h.name ?? 'file', 0, 100);
  put(b, h.mode ?? '0000644', 100, 8);
  put(b, h.uid ?? '0000000', 108, 8);
  put(b, h.gid ?? '0000000', 116, 8);
  put(b, h.size ?? octal(0, 12), 124, 12);
  put(b, h.mtime ?? octal(0, 12), 136, 12);
  b[156] = (h.typeflag ?? '0').charCodeAt(0);
  put(b, h.linkname ?? '', 157, 100);
  const magic = h.magic ?? 'ustar';
  if (magic === 'ustar') b.write('ustar\u000000', 257, 'latin1');
  else if (magic === 'gnu') b.write('ustar  \u0000', 257, 'latin1');
  put(b, h.prefix ?? '', 345, 155);
  setChecksum(b);
  if (h.checksum === 'bad') {
    const sum = parseInt(b.toString('latin1', 148, 154), 8) + 1;
    b.write(octal(sum, 7), 148, 'latin1');
  } else if (h.checksum && h.checksum !== 'ok') {
    b.fill(0x20, 148, 156);
    b.write(h.checksum, 148, 'latin1');
  }
  return b;
}

export function sizeField(n: number): string {
  return octal(n, 12);
}

/** Data followed by zero padding to the block boundary. */
export function body(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc(paddingFor(data.length))]);
}

/** A regular file entry with raw header overrides. */
export function rawFile(name: string, data: Buffer, h: RawHeader = {}): Buffer {
  return Buffer.concat([rawHeader({ name, size: sizeField(data.length), ...h }), body(data)]);
}

function paxRecord(key: string, value: string | Buffer): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const rest = Buffer.concat([Buffer.from(` ${key}=`), v, Buffer.from('\n')]);
  let len = rest.length + String(rest.length).length;
  if (String(len).length !== String(len - rest.length).length) len = rest.length + String(len).length;
  return Buffer.concat([Buffer.from(String(len)), rest]);
}

/** A PAX extended header ('x', or 'g' for global) with these records. */
export function paxHeader(records: [string, string | Buffer][], typeflag: 'x' | 'g' = 'x'): Buffer {
  const data = Buffer.concat(records.map(([k, v]) => paxRecord(k, v)));
  return Buffer.concat([rawHeader({ name: 'PaxHeaders/x', typeflag, size: sizeField(data.length) }), body(data)]);
}

/** A GNU long name ('L') or long link ('K') header carrying `value` (NUL-terminated like GNU tar writes it). */
export function gnuLong(kind: 'L' | 'K', value: Buffer): Buffer {
  const data = Buffer.concat([value, Buffer.from([0])]);
  return Buffer.concat([rawHeader({ name: '././@LongLink', typeflag: kind, magic: 'gnu', size: sizeField(data.length) }), body(data)]);
}

export const END = Buffer.alloc(2 * BLOCK);

/** A well-formed tar of these entries (the normal writer), for hostile content that is well-formed as tar. */
export function tarOf(entries: MemoryEntry[]): Buffer {
  return tarFromEntries(entries);
}
