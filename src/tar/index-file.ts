import { open } from 'node:fs/promises';
import { LayerwiseError, asLayerwiseError } from '../errors.js';
import { BLOCK, type EntryType } from './header.js';
import { TarParser, type TarEvent } from './reader.js';
import { hasDrivePrefix } from './safety/entry-path.js';
import { foldName } from './safety/fold.js';

export interface TarMember {
  name: string;
  type: EntryType;
  size: number;
  dataOffset: number;
  linkpath: string;
}

export interface TarIndex {
  members: Map<string, TarMember>;
  totalBytes: number;
}

/** Normalises an archive member name for lookup: no leading "./", no trailing "/". */
export function memberName(raw: string): string {
  let n = raw;
  while (n.startsWith('./')) n = n.slice(2);
  while (n.endsWith('/') && n.length > 1) n = n.slice(0, -1);
  return n;
}

function checkMemberName(name: string, type: EntryType, subject: string): void {
  const root = name === '' || name === '.';
  const unsafe =
    name.startsWith('/') ||
    name.includes('\\') ||
    name.includes('\0') ||
    hasDrivePrefix(name) ||
    (!root && name.split('/').some((p) => p === '..' || p === '.' || p === '')) ||
    (root && type !== 'dir');
  if (unsafe) {
    throw new LayerwiseError('TAR_PATH_UNSAFE', `${subject}: unsafe member name ${JSON.stringify(name)}`, { subject });
  }
}

/**
 * Locates every member of an uncompressed tar file by reading only its headers and seeking over data,
 * so a multi-GB archive is indexed in milliseconds. Unsafe names (absolute, drive, "..", "\\", "." or
 * empty components) are refused, and so are duplicate names, also in another case or Unicode
 * normalisation: two readers could pick different copies.
 */
export async function indexTarFile(file: string): Promise<TarIndex> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    throw asLayerwiseError(err, file);
  }
  try {
    const size = (await fh.stat()).size;
    const parser = new TarParser({ subject: file });
    const members = new Map<string, TarMember>();
    const folded = new Map<string, string>();
    const block = Buffer.alloc(BLOCK);
    const events: TarEvent[] = [];
    let pos = 0;
    let sawEnd = false;
    while (pos < size) {
      const { bytesRead } = await fh.read(block, 0, BLOCK, pos);
      if (bytesRead < BLOCK) {
        throw new LayerwiseError('TAR_TRUNCATED', `${file}: ends inside a 512-byte block (truncated)`, { subject: file });
      }
      pos += BLOCK;
      events.length = 0;
      parser.write(block, events);
      for (const ev of events) {
        if (ev.kind !== 'entry') continue;
        const e = ev.entry;
        const name = memberName(e.path);
        checkMemberName(name, e.type, file);
        if (members.has(name)) {
          throw new LayerwiseError('TAR_DUPLICATE_ENTRY', `${file}: member ${JSON.stringify(name)} appears twice`, { subject: file });
        }
        // Extracted on macOS or Windows, these would be one file: whichever came last would win.
        const other = folded.get(foldName(name));
        if (other !== undefined) {
          throw new LayerwiseError('TAR_DUPLICATE_ENTRY', `${file}: members ${JSON.stringify(other)} and ${JSON.stringify(name)} differ only in case or Unicode normalisation`, { subject: file });
        }
        folded.set(foldName(name), name);
        members.set(name, { name, type: e.type, size: e.size, dataOffset: e.dataOffset, linkpath: e.linkpath });
      }
      if (parser.inData) {
        const skip = parser.skipData();
        if (pos + skip > size) {
          throw new LayerwiseError('TAR_TRUNCATED', `${file}: member data runs past the end of the file (truncated)`, { subject: file });
        }
        pos += skip;
      }
    }
    events.length = 0;
    parser.end(events);
    sawEnd = events.some((e) => e.kind === 'end');
    if (!sawEnd) throw new LayerwiseError('TAR_TRUNCATED', `${file}: truncated`, { subject: file });
    return { members, totalBytes: size };
  } finally {
    await fh.close();
  }
}
