import { Readable } from 'node:stream';
import { LayerwiseError } from '../errors.js';
import { decompressStream } from '../stream/compression.js';
import { xzDecompress } from '../stream/xz.js';
import { readTar } from '../tar/reader.js';

/**
 * Package archives that layers carry next to the files they were unpacked into: apt's cached .debs,
 * pip and npm tarballs. When a rebuilt layer holds both, a patch ships the archive once and the site
 * takes the unpacked files out of it, instead of shipping the same content twice.
 */
export type ArchiveKind = 'deb' | 'tar.gz' | 'tar.xz' | 'tar.zst' | 'tar';

/** Archives above this size are not unpacked (memory and time stay bounded). */
export const MAX_ARCHIVE = 64 * 1024 * 1024;

export function archiveKind(path: string, head: Uint8Array): ArchiveKind | undefined {
  const p = path.toLowerCase();
  const magic = (bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if ((p.endsWith('.deb') || p.endsWith('.udeb')) && magic([0x21, 0x3c, 0x61, 0x72, 0x63, 0x68, 0x3e, 0x0a])) return 'deb';
  if ((p.endsWith('.tar.gz') || p.endsWith('.tgz')) && magic([0x1f, 0x8b])) return 'tar.gz';
  if ((p.endsWith('.tar.xz') || p.endsWith('.txz')) && magic([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return 'tar.xz';
  if (p.endsWith('.tar.zst') && magic([0x28, 0xb5, 0x2f, 0xfd])) return 'tar.zst';
  return undefined;
}

/** The data.tar member of a .deb (ar archive): its bytes and compression. */
function debPayload(deb: Buffer, subject: string): { bytes: Buffer; kind: ArchiveKind } | undefined {
  if (deb.toString('latin1', 0, 8) !== '!<arch>\n') throw new LayerwiseError('COMPRESSION_INVALID', `${subject}: not an ar archive`);
  let pos = 8;
  while (pos + 60 <= deb.length) {
    const name = deb.toString('latin1', pos, pos + 16).trim().replace(/\/$/, '');
    const sizeText = deb.toString('latin1', pos + 48, pos + 58).trim();
    if (!/^\d+$/.test(sizeText) || deb.toString('latin1', pos + 58, pos + 60) !== '`\n') throw new LayerwiseError('COMPRESSION_INVALID', `${subject}: malformed ar header`);
    const size = Number(sizeText);
    const start = pos + 60;
    if (start + size > deb.length) throw new LayerwiseError('COMPRESSION_INVALID', `${subject}: ar member overruns the archive`);
    if (name.startsWith('data.tar')) {
      const bytes = deb.subarray(start, start + size);
      const kind: ArchiveKind | undefined = name === 'data.tar' ? 'tar' : name === 'data.tar.gz' ? 'tar.gz' : name === 'data.tar.xz' ? 'tar.xz' : name === 'data.tar.zst' ? 'tar.zst' : undefined;
      return kind ? { bytes, kind } : undefined;
    }
    pos = start + size + (size % 2);
  }
  return undefined;
}

function tarStream(bytes: Buffer, kind: ArchiveKind, subject: string): Readable {
  const raw = Readable.from([bytes]);
  switch (kind) {
    case 'tar':
      return raw;
    case 'tar.gz':
      return decompressStream(raw, 'gzip', subject);
    case 'tar.zst':
      return decompressStream(raw, 'zstd', subject);
    case 'tar.xz':
      return xzDecompress(bytes, subject);
    default:
      throw new LayerwiseError('COMPRESSION_UNSUPPORTED', `${subject}: ${kind}`);
  }
}

/**
 * Calls `member` for every regular file in an archive, in order, numbered from 0; bytes arrive in chunks.
 * Malformed archives are not an error for the caller to handle: they simply yield no members.
 */
export async function forEachMember(
  archive: Buffer,
  kind: ArchiveKind,
  subject: string,
  member: { start(index: number, size: number): void; data(chunk: Buffer): void; end(): void },
): Promise<void> {
  let payload: { bytes: Buffer; kind: ArchiveKind } | undefined = { bytes: archive, kind };
  if (kind === 'deb') payload = debPayload(archive, subject);
  if (!payload) return;
  let index = -1;
  let regular = false;
  let total = 0;
  for await (const ev of readTar(tarStream(payload.bytes, payload.kind, subject), { subject })) {
    if (ev.kind === 'entry') {
      regular = (ev.entry.type === 'file' || ev.entry.type === 'contiguous') && ev.entry.size > 0;
      if (regular) member.start(++index, ev.entry.size);
    } else if (ev.kind === 'data' && regular) {
      total += ev.chunk.length;
      if (total > MAX_ARCHIVE * 4) throw new LayerwiseError('DECOMPRESSION_BOMB', `${subject}: unpacks past ${MAX_ARCHIVE * 4} bytes`);
      member.data(ev.chunk);
    } else if (ev.kind === 'entry-end' && regular) member.end();
  }
}
