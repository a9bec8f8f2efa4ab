import { LayerwiseError } from '../errors.js';

export const BLOCK = 512;

export type EntryType =
  | 'file'
  | 'hardlink'
  | 'symlink'
  | 'char'
  | 'block'
  | 'dir'
  | 'fifo'
  | 'contiguous'
  | 'pax-header'
  | 'pax-global'
  | 'gnu-longname'
  | 'gnu-longlink'
  | 'gnu-sparse'
  | 'unknown';

const TYPE_BY_FLAG: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'contiguous',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
  x: 'pax-header',
  X: 'pax-header',
  g: 'pax-global',
  L: 'gnu-longname',
  K: 'gnu-longlink',
  S: 'gnu-sparse',
};

/** The fields of one 512-byte header block, before PAX or GNU extensions are applied. */
export interface RawHeaderFields {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  checksum: number;
  typeflag: string;
  type: EntryType;
  linkname: string;
  magic: 'ustar' | 'gnu' | 'v7';
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  prefix: string;
}

export function isZeroBlock(buf: Uint8Array, at = 0): boolean {
  for (let i = at; i < at + BLOCK; i++) if (buf[i] !== 0) return false;
  return true;
}

function cstring(buf: Buffer, start: number, len: number): string {
  let end = start;
  const max = start + len;
  while (end < max && buf[end] !== 0) end++;
  return buf.toString('utf8', start, end);
}

/**
 * Reads a numeric header field: octal ASCII (leading spaces/NULs allowed) or GNU base-256 when the first
 * byte has its high bit set. Negative base-256 values are refused: no legitimate size, id or time needs them.
 */
export function parseNumeric(buf: Buffer, start: number, len: number, field: string, subject: string): number {
  const first = buf[start]!;
  if (first & 0x80) {
    if (first === 0xff) {
      throw new LayerwiseError('TAR_INVALID_HEADER', `${subject}: negative base-256 ${field}`, { subject });
    }
    let value = first & 0x7f;
    for (let i = start + 1; i < start + len; i++) {
      value = value * 256 + buf[i]!;
      if (!Number.isSafeInteger(value)) {
        throw new LayerwiseError('TAR_INVALID_HEADER', `${subject}: base-256 ${field} is too large`, { subject });
      }
    }
    return value;
  }
  let i = start;
  const end = start + len;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0)) i++;
  let value = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) {
      throw new LayerwiseError('TAR_INVALID_HEADER', `${subject}: ${field} field is not octal`, { subject });
    }
    value = value * 8 + (c - 0x30);
    digits++;
  }
  // Anything after the terminator must be padding; "12 34" is not a number.
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c !== 0 && c !== 0x20) {
      throw new LayerwiseError('TAR_INVALID_HEADER', `${subject}: ${field} field has garbage after its value`, { subject });
    }
  }
  if (digits === 0) return 0;
  return value;
}

/** The unsigned header checksum with the checksum field counted as spaces, and the historic signed variant. */
export function headerChecksums(buf: Buffer, at = 0): { unsigned: number; signed: number } {
  let unsigned = 0;
  let signed = 0;
  for (let i = at; i < at + BLOCK; i++) {
    const b = i >= at + 148 && i < at + 156 ? 0x20 : buf[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return { unsigned, signed };
}

/** Parses one header block. The caller has already ruled out an all-zero block. */
export function parseHeaderBlock(block: Buffer, subject: string): RawHeaderFields {
  const checksum = parseNumeric(block, 148, 8, 'checksum', subject);
  const sums = headerChecksums(block);
  if (checksum !== sums.unsigned && checksum !== sums.signed) {
    throw new LayerwiseError('TAR_BAD_CHECKSUM', `${subject}: header checksum ${checksum} does not match ${sums.unsigned}`, { subject });
  }
  const magicField = block.toString('latin1', 257, 263);
  const magic = magicField === 'ustar\0' ? 'ustar' : magicField === 'ustar ' ? 'gnu' : 'v7';
  const typeflag = String.fromCharCode(block[156]!);
  const ustarish = magic !== 'v7';
  return {
    name: cstring(block, 0, 100),
    mode: parseNumeric(block, 100, 8, 'mode', subject),
    uid: parseNumeric(block, 108, 8, 'uid', subject),
    gid: parseNumeric(block, 116, 8, 'gid', subject),
    size: parseNumeric(block, 124, 12, 'size', subject),
    mtime: parseNumeric(block, 136, 12, 'mtime', subject),
    checksum,
    typeflag,
    type: TYPE_BY_FLAG[typeflag] ?? 'unknown',
    linkname: cstring(block, 157, 100),
    magic,
    uname: ustarish ? cstring(block, 265, 32) : '',
    gname: ustarish ? cstring(block, 297, 32) : '',
    devmajor: ustarish ? parseNumeric(block, 329, 8, 'devmajor', subject) : 0,
    devminor: ustarish ? parseNumeric(block, 337, 8, 'devminor', subject) : 0,
    // GNU headers keep atime/ctime where ustar keeps the prefix.
    prefix: magic === 'ustar' ? cstring(block, 345, 155) : '',
  };
}

/**
 * Parses PAX extended header records ("%d %s=%s\n"). The length prefix must be exact; keys and values
 * with NUL are refused because C-based readers would see a different name than we do.
 */
export function parsePaxRecords(data: Buffer, subject: string): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) {
      // Some writers pad the record block with NULs.
      for (let i = pos; i < data.length; i++) {
        if (data[i] !== 0) throw new LayerwiseError('TAR_INVALID_HEADER', `${subject}: PAX record has data after NUL padding`, { subject });
      }
      break;
    }
    const space = data.indexOf(0x20, pos);
    if (space < 0 || space - pos > 20) throw new LayerwiseError('TAR_INVALID_HEADER', `${subject}: malformed PAX record length`, { subject });
    const lenText = data.toString('latin1', pos, space);
    if (!/^[1-9][0-9]*$/.test(lenText)) throw new LayerwiseError('TAR_INVALID_HEADER', `${subject}: malformed PAX record length`, { subject });
    const len = Number(lenText);
    const end = pos + len;
    if (end > data.length || data[end - 1] !== 0x0a) {
      throw new LayerwiseError('TAR_INVALID_HEADER', `${subject}: PAX record overruns its header`, { subject });
    }
    const eq = data.indexOf(0x3d, space + 1);
    if (eq < 0 || eq >= end - 1) throw new LayerwiseError('TAR_INVALID_HEADER', `${subject}: PAX record without '='`, { subject });
    const keyBuf = data.subarray(space + 1, eq);
    const valBuf = data.subarray(eq + 1, end - 1);
    if (keyBuf.includes(0) || valBuf.includes(0)) {
      throw new LayerwiseError('TAR_PATH_UNSAFE', `${subject}: NUL byte inside a PAX record`, { subject });
    }
    out.set(keyBuf.toString('utf8'), valBuf.toString('utf8'));
    pos = end;
  }
  return out;
}

/** Bytes of padding after `size` bytes of data to reach the next block boundary. */
export function paddingFor(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}
