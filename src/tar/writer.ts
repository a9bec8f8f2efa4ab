import { LayerwiseError } from '../errors.js';
import { BLOCK, paddingFor, type EntryType } from './header.js';

export interface TarHeaderInput {
  path: string;
  type: Exclude<EntryType, 'pax-header' | 'pax-global' | 'gnu-longname' | 'gnu-longlink' | 'gnu-sparse' | 'unknown'>;
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  mtime?: number;
  linkpath?: string;
  devmajor?: number;
  devminor?: number;
  /** Extra PAX records (e.g. SCHILY.xattr.*); emitted in sorted key order. */
  pax?: Record<string, string>;
}

const FLAG: Record<TarHeaderInput['type'], string> = {
  file: '0',
  contiguous: '7',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

function writeString(block: Buffer, value: string, start: number, len: number): boolean {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > len) return false;
  bytes.copy(block, start);
  return true;
}

/** Writes an octal field the way Go's archive/tar does: zero-padded, NUL-terminated. Returns false when it does not fit. */
function writeOctal(block: Buffer, value: number, start: number, len: number): boolean {
  if (!Number.isSafeInteger(value) || value < 0) return false;
  const text = value.toString(8).padStart(len - 1, '0');
  if (text.length > len - 1) return false;
  block.write(text, start, 'latin1');
  block[start + len - 1] = 0;
  return true;
}

function isAscii(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x01-\x7f]*$/.test(s);
}

/** Splits a long ustar name into prefix (<=155) and name (<=100) at a slash, when possible. */
function splitUstarPath(path: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  if (!isAscii(path) || path.length > 256) return undefined;
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== '/') continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (prefix.length <= 155 && name.length <= 100 && name.length > 0) return { prefix, name };
  }
  return undefined;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body);
  let total = len + String(len).length;
  if (String(total).length !== String(len).length) total = len + String(total).length;
  return `${total}${body}`;
}

function makeBlock(fields: {
  name: string; mode: number; uid: number; gid: number; size: number; mtime: number; flag: string;
  linkname: string; uname: string; gname: string; devmajor: number; devminor: number; prefix: string;
}): Buffer {
  const b = Buffer.alloc(BLOCK);
  writeString(b, fields.name, 0, 100);
  writeOctal(b, fields.mode, 100, 8);
  writeOctal(b, fields.uid, 108, 8);
  writeOctal(b, fields.gid, 116, 8);
  writeOctal(b, fields.size, 124, 12);
  writeOctal(b, fields.mtime, 136, 12);
  b[156] = fields.flag.charCodeAt(0);
  writeString(b, fields.linkname, 157, 100);
  b.write('ustar\u000000', 257, 'latin1');
  writeString(b, fields.uname, 265, 32);
  writeString(b, fields.gname, 297, 32);
  writeOctal(b, fields.devmajor, 329, 8);
  writeOctal(b, fields.devminor, 337, 8);
  writeString(b, fields.prefix, 345, 155);
  setChecksum(b);
  return b;
}

/** Fills the checksum field of a header block in place (6 octal digits, NUL, space: the ustar convention). */
export function setChecksum(b: Buffer): void {
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, '0'), 148, 'latin1');
  b[154] = 0;
  b[155] = 0x20;
}

/**
 * Encodes the header blocks of one entry: a PAX extended header when a field does not fit ustar
 * (long or non-ASCII names, large sizes or ids, fractional mtimes, extra records), then the ustar header.
 */
export function encodeHeader(h: TarHeaderInput): Buffer {
  const size = h.type === 'file' || h.type === 'contiguous' ? h.size ?? 0 : 0;
  const mode = h.mode ?? (h.type === 'dir' ? 0o755 : 0o644);
  const uid = h.uid ?? 0;
  const gid = h.gid ?? 0;
  const mtime = h.mtime ?? 0;
  const linkpath = h.linkpath ?? '';
  if ((h.type === 'symlink' || h.type === 'hardlink') && linkpath === '') {
    throw new LayerwiseError('TAR_INVALID_HEADER', `${h.path}: ${h.type} without a target`);
  }
  const pax: Record<string, string> = { ...(h.pax ?? {}) };
  let name = h.path;
  let prefix = '';
  const split = splitUstarPath(h.path);
  if (split && isAscii(h.path)) {
    name = split.name;
    prefix = split.prefix;
  } else {
    pax.path = h.path;
    name = asciiTruncate(h.path, 100);
  }
  let linkname = linkpath;
  if (Buffer.byteLength(linkpath) > 100 || !isAscii(linkpath)) {
    pax.linkpath = linkpath;
    linkname = asciiTruncate(linkpath, 100);
  }
  let sizeField = size;
  if (size > 0o77777777777) {
    pax.size = String(size);
    sizeField = 0;
  }
  let mtimeField = Math.floor(mtime);
  if (!Number.isInteger(mtime)) pax.mtime = mtime.toFixed(9).replace(/0+$/, '');
  if (mtimeField > 0o77777777777 || mtimeField < 0) {
    pax.mtime = String(mtime);
    mtimeField = 0;
  }
  let uidField = uid;
  let gidField = gid;
  if (uid > 0o7777777) {
    pax.uid = String(uid);
    uidField = 0;
  }
  if (gid > 0o7777777) {
    pax.gid = String(gid);
    gidField = 0;
  }
  const uname = h.uname ?? '';
  const gname = h.gname ?? '';
  let unameField = uname;
  let gnameField = gname;
  if (Buffer.byteLength(uname) > 32 || !isAscii(uname)) {
    pax.uname = uname;
    unameField = '';
  }
  if (Buffer.byteLength(gname) > 32 || !isAscii(gname)) {
    pax.gname = gname;
    gnameField = '';
  }
  const main = makeBlock({
    name, mode, uid: uidField, gid: gidField, size: sizeField, mtime: mtimeField, flag: FLAG[h.type],
    linkname, uname: unameField, gname: gnameField, devmajor: h.devmajor ?? 0, devminor: h.devminor ?? 0, prefix,
  });
  const keys = Object.keys(pax).sort();
  if (keys.length === 0) return main;
  const records = Buffer.from(keys.map((k) => paxRecord(k, pax[k]!)).join(''), 'utf8');
  const paxName = asciiTruncate(`PaxHeaders.0/${(h.path.split('/').pop() || 'entry')}`, 100);
  const paxHeader = makeBlock({
    name: paxName, mode: 0o644, uid: 0, gid: 0, size: records.length, mtime: mtimeField, flag: 'x',
    linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0, prefix: '',
  });
  return Buffer.concat([paxHeader, records, Buffer.alloc(paddingFor(records.length)), main]);
}

function asciiTruncate(s: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const ascii = s.replace(/[^\x20-\x7e]/g, '_');
  return ascii.length <= max ? ascii : ascii.slice(0, max);
}

export const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2);

export function padding(size: number): Buffer {
  return Buffer.alloc(paddingFor(size));
}

/** One in-memory entry for building small archives in tests and for JSON files in image archives. */
export interface MemoryEntry extends TarHeaderInput {
  data?: Uint8Array;
}

/** Builds a whole tar in memory. Meant for small archives: metadata files, test fixtures. */
export function tarFromEntries(entries: MemoryEntry[], opts: { endMarker?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ? Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength) : Buffer.alloc(0);
    parts.push(encodeHeader({ ...e, size: e.type === 'file' ? data.length : 0 }));
    if (e.type === 'file' && data.length > 0) {
      parts.push(data, padding(data.length));
    }
  }
  if (opts.endMarker !== false) parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}
