import { LayerwiseError } from '../errors.js';
import type { RandomAccess } from '../stream/random-access.js';
import { BLOCK } from './header.js';
import { TarParser, type TarEntry, type TarEvent } from './reader.js';

/**
 * Lists the entries of an uncompressed tar by reading only header blocks and seeking over data: the
 * headers of a 200 MB layer in milliseconds. Entries keep their raw header bytes.
 */
export async function indexTarEntries(ra: RandomAccess, subject: string): Promise<TarEntry[]> {
  const parser = new TarParser({ subject });
  const out: TarEntry[] = [];
  const events: TarEvent[] = [];
  let pos = 0;
  // Reads go through a window: one read covers the headers (and data) of many small entries.
  const WINDOW = 256 * 1024;
  let win: Buffer = Buffer.alloc(0);
  let winStart = 0;
  // The window after the current one is read ahead while this one is parsed; used if parsing lands in it.
  let ahead: { start: number; read: Promise<Buffer> } | undefined;
  const windowAt = (at: number) => ra.read(at, Math.min(WINDOW, ra.size - at - ((ra.size - at) % BLOCK)));
  try {
    while (pos < ra.size) {
      const n = Math.min(BLOCK, ra.size - pos);
      if (n < BLOCK) throw new LayerwiseError('TAR_TRUNCATED', `${subject}: ends inside a 512-byte block`, { subject });
      if (pos < winStart || pos + BLOCK > winStart + win.length) {
        const next = ahead && pos >= ahead.start && pos < ahead.start + WINDOW ? { start: ahead.start, buf: await ahead.read } : undefined;
        if (next && pos + BLOCK <= next.start + next.buf.length) {
          win = next.buf;
          winStart = next.start;
        } else {
          win = await windowAt(pos);
          winStart = pos;
        }
        const after = winStart + win.length;
        ahead = after + BLOCK <= ra.size ? { start: after, read: windowAt(after) } : undefined;
        // A read-ahead that is never used must not surface as an unhandled rejection.
        ahead?.read.catch(() => {});
      }
      const block = win.subarray(pos - winStart, pos - winStart + BLOCK);
      pos += BLOCK;
      events.length = 0;
      parser.write(block, events);
      for (const ev of events) if (ev.kind === 'entry') out.push(ev.entry);
      if (parser.inData) {
        const skip = parser.skipData();
        if (pos + skip > ra.size) throw new LayerwiseError('TAR_TRUNCATED', `${subject}: entry data runs past the end (truncated)`, { subject });
        pos += skip;
      }
    }
  } finally {
    // No read of ours may still be running when the caller closes the file.
    if (ahead) await ahead.read.catch(() => {});
  }
  parser.end();
  return out;
}
