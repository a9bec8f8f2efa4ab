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

/**
 * The names of an image archive's members (docker-archive, oci-archive, a `docker save` stream): no
 * unsafe names (absolute, drive, "..", "\\", "." or empty components), no duplicates, also in another
 * case or Unicode normalisation: two readers could pick different copies.
 */
export class ArchiveMemberNames {
  private readonly seen = new Set<string>();
  private readonly folded = new Map<string, string>();
  constructor(private readonly subject: string) {}

  /** Checks the next member; returns its normalised name. */
  add(path: string, type: EntryType): string {
    const name = memberName(path);
    const subject = this.subject;
    checkMemberName(name, type, subject);
    if (this.seen.has(name)) throw new LayerwiseError('TAR_DUPLICATE_ENTRY', `${subject}: member ${JSON.stringify(name)} appears twice`, { subject });
    // Extracted on macOS or Windows, these would be one file: whichever came last would win.
    const other = this.folded.get(foldName(name));
    if (other !== undefined) {
      throw new LayerwiseError('TAR_DUPLICATE_ENTRY', `${subject}: members ${JSON.stringify(other)} and ${JSON.stringify(name)} differ only in case or Unicode normalisation`, { subject });
    }
    this.seen.add(name);
    this.folded.set(foldName(name), name);
    return name;
  }
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
 * so a multi-GB archive is indexed in milliseconds. Member names are checked (ArchiveMemberNames).
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
    const names = new ArchiveMemberNames(file);
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
        const name = names.add(e.path, e.type);
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
