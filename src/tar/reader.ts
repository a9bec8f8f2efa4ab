import type { Readable } from 'node:stream';
import { LayerwiseError } from '../errors.js';
import { BLOCK, isZeroBlock, paddingFor, parseHeaderBlock, parsePaxRecords, type EntryType } from './header.js';

/** One archive member, with every extension (PAX, GNU long names) already applied. */
export interface TarEntry {
  /** Sequence number in the archive, from 0. */
  index: number;
  /** The name as the archive spells it (PAX path > GNU long name > ustar prefix + name). Not normalised. */
  path: string;
  linkpath: string;
  type: EntryType;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Bytes of data that follow the header in the archive. */
  size: number;
  /** Seconds since the epoch; PAX can make it fractional. */
  mtime: number;
  devmajor: number;
  devminor: number;
  /** PAX records of this entry (local ones, after globals). */
  pax: Map<string, string> | undefined;
  /** Offset in the stream where this entry's first header block starts (extension headers included). */
  headerOffset: number;
  /** The raw bytes of every header block of this entry: extension headers, their data and padding, and the main header. */
  headerBytes: Buffer;
  /** Offset in the stream where the data starts. */
  dataOffset: number;
}

export type TarEvent =
  | { kind: 'entry'; entry: TarEntry }
  | { kind: 'data'; entry: TarEntry; chunk: Buffer }
  | { kind: 'entry-end'; entry: TarEntry; padding: Buffer }
  | { kind: 'end'; trailerOffset: number; trailer: Buffer; totalBytes: number };

export interface TarReadOptions {
  /** Names the archive in errors. */
  subject: string;
  /** Upper bound for PAX and GNU long-name data of one entry. */
  maxExtensionBytes?: number;
  /** Upper bound for PAX and GNU long-name data over the whole archive (they are held in memory with their entries). */
  maxTotalExtensionBytes?: number;
  /** Upper bound of all-zero bytes accepted after the end-of-archive marker (GNU tar pads to 10 KiB records). */
  maxTrailerBytes?: number;
}

const DEFAULT_MAX_EXTENSION = 1024 * 1024;
const DEFAULT_MAX_TOTAL_EXTENSION = 64 * 1024 * 1024;
const DEFAULT_MAX_TRAILER = 1024 * 1024;

type State =
  | { s: 'header' }
  | { s: 'ext'; remaining: number; padding: number; kind: EntryType; data: Buffer[] }
  | { s: 'data'; remaining: number; entry: TarEntry }
  | { s: 'padding'; remaining: number; entry: TarEntry; bytes: Buffer[] }
  | { s: 'trailer' };

/**
 * A push parser for tar streams. It keeps every byte accountable: the concatenation of each entry's
 * headerBytes, data and padding, followed by the trailer, is exactly the input. That is what lets the
 * patch engine rebuild layers byte for byte.
 */
export class TarParser {
  private state: State = { s: 'header' };
  private offset = 0;
  private pending: Buffer | undefined; // partial block
  private index = 0;
  private headerStart = -1;
  private headerParts: Buffer[] = [];
  private paxLocal: Map<string, string> | undefined;
  private paxGlobal = new Map<string, string>();
  private longName: string | undefined;
  private longLink: string | undefined;
  private trailerParts: Buffer[] = [];
  private trailerOffset = -1;
  private trailerBytes = 0;
  private readonly maxExt: number;
  private readonly maxTotalExt: number;
  private extTotal = 0;
  private readonly maxTrailer: number;
  private ended = false;

  constructor(private readonly opts: TarReadOptions) {
    this.maxExt = opts.maxExtensionBytes ?? DEFAULT_MAX_EXTENSION;
    this.maxTotalExt = opts.maxTotalExtensionBytes ?? DEFAULT_MAX_TOTAL_EXTENSION;
    this.maxTrailer = opts.maxTrailerBytes ?? DEFAULT_MAX_TRAILER;
  }

  get position(): number {
    return this.offset;
  }

  /** Feeds a chunk; returns the events it completes. */
  write(chunk: Buffer, out: TarEvent[] = []): TarEvent[] {
    let buf = chunk;
    if (this.pending) {
      // Only a partial header block is ever pending: complete it without copying the whole chunk.
      const need = BLOCK - this.pending.length;
      if (buf.length < need) {
        this.pending = Buffer.concat([this.pending, buf]);
        return out;
      }
      const block = Buffer.concat([this.pending, buf.subarray(0, need)]);
      this.pending = undefined;
      this.handleBlock(block, out);
      buf = buf.subarray(need);
    }
    let pos = 0;
    while (pos < buf.length) {
      const st = this.state;
      switch (st.s) {
        case 'data': {
          const n = Math.min(st.remaining, buf.length - pos);
          out.push({ kind: 'data', entry: st.entry, chunk: buf.subarray(pos, pos + n) });
          pos += n;
          this.offset += n;
          st.remaining -= n;
          if (st.remaining === 0) this.afterData(st.entry, out);
          break;
        }
        case 'padding': {
          const n = Math.min(st.remaining, buf.length - pos);
          st.bytes.push(Buffer.from(buf.subarray(pos, pos + n)));
          pos += n;
          this.offset += n;
          st.remaining -= n;
          if (st.remaining === 0) {
            out.push({ kind: 'entry-end', entry: st.entry, padding: st.bytes.length === 1 ? st.bytes[0]! : Buffer.concat(st.bytes) });
            this.state = { s: 'header' };
          }
          break;
        }
        case 'ext': {
          const n = Math.min(st.remaining, buf.length - pos);
          const part = Buffer.from(buf.subarray(pos, pos + n));
          this.headerParts.push(part);
          st.data.push(part);
          pos += n;
          this.offset += n;
          st.remaining -= n;
          if (st.remaining === 0) this.finishExtension(st);
          break;
        }
        case 'header':
        case 'trailer': {
          if (buf.length - pos < BLOCK) {
            this.pending = Buffer.from(buf.subarray(pos));
            pos = buf.length;
            break;
          }
          this.handleBlock(buf.subarray(pos, pos + BLOCK), out);
          pos += BLOCK;
          break;
        }
      }
    }
    return out;
  }

  private handleBlock(block: Buffer, out: TarEvent[]): void {
    if (this.state.s === 'trailer') {
      this.consumeTrailerBlock(block);
    } else if (isZeroBlock(block)) {
      if (this.headerParts.length > 0) {
        throw new LayerwiseError('TAR_INVALID_HEADER', `${this.opts.subject}: end-of-archive marker right after an extension header`, { subject: this.opts.subject });
      }
      this.state = { s: 'trailer' };
      this.trailerOffset = this.offset;
      this.consumeTrailerBlock(block);
    } else {
      this.consumeHeader(Buffer.from(block), out);
    }
    this.offset += BLOCK;
  }

  /**
   * When the parser sits at the start of an entry's data, skips that data and its padding without
   * reading them and returns how many bytes the caller must seek over. Used to index archives on disk.
   */
  skipData(out: TarEvent[] = []): number {
    const st = this.state;
    if (st.s !== 'data') return 0;
    const n = st.remaining + paddingFor(st.entry.size);
    this.offset += n;
    out.push({ kind: 'entry-end', entry: st.entry, padding: EMPTY });
    this.state = { s: 'header' };
    return n;
  }

  get inData(): boolean {
    return this.state.s === 'data';
  }

  /** Signals the end of input; returns the final events or throws if the archive was cut short. */
  end(out: TarEvent[] = []): TarEvent[] {
    if (this.ended) return out;
    this.ended = true;
    const subject = this.opts.subject;
    if (this.pending && this.pending.length > 0) {
      throw new LayerwiseError('TAR_TRUNCATED', `${subject}: archive ends inside a 512-byte block (truncated)`, { subject });
    }
    const st = this.state;
    if (st.s === 'data' || st.s === 'padding' || st.s === 'ext') {
      throw new LayerwiseError('TAR_TRUNCATED', `${subject}: archive ends inside an entry (truncated at byte ${this.offset})`, { subject });
    }
    if (this.headerParts.length > 0) {
      throw new LayerwiseError('TAR_TRUNCATED', `${subject}: archive ends after an extension header (truncated)`, { subject });
    }
    const trailer = this.trailerParts.length === 1 ? this.trailerParts[0]! : Buffer.concat(this.trailerParts);
    out.push({ kind: 'end', trailerOffset: this.trailerOffset < 0 ? this.offset : this.trailerOffset, trailer, totalBytes: this.offset });
    return out;
  }

  private consumeTrailerBlock(block: Buffer): void {
    if (!isZeroBlock(block)) {
      throw new LayerwiseError('TAR_TRAILING_DATA', `${this.opts.subject}: data after the end-of-archive marker at byte ${this.offset}`, { subject: this.opts.subject });
    }
    this.trailerBytes += BLOCK;
    if (this.trailerBytes > this.maxTrailer) {
      throw new LayerwiseError('TAR_TRAILING_DATA', `${this.opts.subject}: over ${this.maxTrailer} bytes of padding after the end-of-archive marker`, { subject: this.opts.subject });
    }
    this.trailerParts.push(Buffer.from(block));
  }

  private consumeHeader(block: Buffer, out: TarEvent[]): void {
    const subject = `${this.opts.subject}: entry ${this.index} at byte ${this.offset}`;
    if (this.headerStart < 0) this.headerStart = this.offset;
    const h = parseHeaderBlock(block, subject);
    this.headerParts.push(block);
    switch (h.type) {
      case 'pax-header':
      case 'pax-global':
      case 'gnu-longname':
      case 'gnu-longlink': {
        if (h.size > this.maxExt) {
          throw new LayerwiseError('TAR_HEADER_TOO_LARGE', `${subject}: ${h.size}-byte extension header is over the ${this.maxExt}-byte limit`, { subject });
        }
        // Each one is small, but thousands compress to nothing and would all be held in memory.
        this.extTotal += h.size;
        if (this.extTotal > this.maxTotalExt) {
          throw new LayerwiseError('TAR_HEADER_TOO_LARGE', `${subject}: extension headers add up to over the ${this.maxTotalExt}-byte limit for one archive`, { subject });
        }
        const padding = paddingFor(h.size);
        const total = h.size + padding;
        if (total === 0) {
          this.finishExtension({ s: 'ext', remaining: 0, padding: 0, kind: h.type, data: [] });
        } else {
          this.state = { s: 'ext', remaining: total, padding, kind: h.type, data: [] };
        }
        return;
      }
      case 'gnu-sparse':
        throw new LayerwiseError('TAR_UNSUPPORTED_ENTRY', `${subject}: GNU sparse entries are not supported in image layers`, { subject });
      default:
        break;
    }
    const pax = this.paxLocal;
    const global = this.paxGlobal;
    const get = (key: string): string | undefined => pax?.get(key) ?? global.get(key);
    if (get('GNU.sparse.map') !== undefined || get('GNU.sparse.major') !== undefined || get('GNU.sparse.size') !== undefined) {
      throw new LayerwiseError('TAR_UNSUPPORTED_ENTRY', `${subject}: PAX sparse entries are not supported in image layers`, { subject });
    }
    let path = h.prefix ? `${h.prefix}/${h.name}` : h.name;
    if (this.longName !== undefined) path = this.longName;
    const paxPath = get('path');
    if (paxPath !== undefined) path = paxPath;
    let linkpath = h.linkname;
    if (this.longLink !== undefined) linkpath = this.longLink;
    const paxLink = get('linkpath');
    if (paxLink !== undefined) linkpath = paxLink;
    let size = h.size;
    const paxSize = get('size');
    if (paxSize !== undefined) {
      if (!/^[0-9]{1,16}$/.test(paxSize) || !Number.isSafeInteger(Number(paxSize))) {
        throw new LayerwiseError('TAR_INVALID_HEADER', `${subject}: PAX size ${JSON.stringify(paxSize)} is not a valid size`, { subject });
      }
      const n = Number(paxSize);
      if (h.size !== 0 && h.size !== n) {
        // Readers disagree on which wins; an archive that relies on that is refused.
        throw new LayerwiseError('TAR_INVALID_HEADER', `${subject}: PAX size ${n} disagrees with header size ${h.size}`, { subject });
      }
      size = n;
    }
    const num = (key: string, fallback: number): number => {
      const v = get(key);
      if (v === undefined) return fallback;
      const n = Number(v);
      if (!Number.isFinite(n)) throw new LayerwiseError('TAR_INVALID_HEADER', `${subject}: PAX ${key} ${JSON.stringify(v)} is not a number`, { subject });
      return n;
    };
    if (path.length === 0) {
      throw new LayerwiseError('TAR_PATH_UNSAFE', `${subject}: entry with an empty name`, { subject });
    }
    const hasData = h.type === 'file' || h.type === 'contiguous' || h.type === 'unknown';
    // Links, directories and devices carry no data; a size on them is a trick to hide bytes from some readers.
    if (!hasData && size !== 0 && h.type !== 'hardlink') {
      throw new LayerwiseError('TAR_INVALID_HEADER', `${subject}: ${h.type} entry declares ${size} bytes of data`, { subject });
    }
    const headerBytes = this.headerParts.length === 1 ? this.headerParts[0]! : Buffer.concat(this.headerParts);
    const entry: TarEntry = {
      index: this.index++,
      path,
      linkpath,
      type: h.type,
      typeflag: h.typeflag,
      mode: h.mode,
      uid: num('uid', h.uid),
      gid: num('gid', h.gid),
      uname: get('uname') ?? h.uname,
      gname: get('gname') ?? h.gname,
      size,
      mtime: num('mtime', h.mtime),
      devmajor: h.devmajor,
      devminor: h.devminor,
      pax: pax,
      headerOffset: this.headerStart,
      headerBytes,
      dataOffset: this.offset + BLOCK,
    };
    this.headerParts = [];
    this.headerStart = -1;
    this.paxLocal = undefined;
    this.longName = undefined;
    this.longLink = undefined;
    out.push({ kind: 'entry', entry });
    if (size > 0) {
      this.state = { s: 'data', remaining: size, entry };
    } else {
      out.push({ kind: 'entry-end', entry, padding: EMPTY });
      this.state = { s: 'header' };
    }
  }

  private afterData(entry: TarEntry, out: TarEvent[]): void {
    const padding = paddingFor(entry.size);
    if (padding === 0) {
      out.push({ kind: 'entry-end', entry, padding: EMPTY });
      this.state = { s: 'header' };
    } else {
      this.state = { s: 'padding', remaining: padding, entry, bytes: [] };
    }
  }

  private finishExtension(st: Extract<State, { s: 'ext' }>): void {
    const subject = `${this.opts.subject}: extension header at byte ${this.headerStart}`;
    const all = Buffer.concat(st.data);
    const data = all.subarray(0, all.length - st.padding);
    if (st.kind === 'pax-header' || st.kind === 'pax-global') {
      const records = parsePaxRecords(data, subject);
      if (st.kind === 'pax-global') {
        for (const [k, v] of records) this.paxGlobal.set(k, v);
      } else {
        this.paxLocal ??= new Map();
        for (const [k, v] of records) this.paxLocal.set(k, v);
      }
    } else {
      const nul = data.indexOf(0);
      const text = data.subarray(0, nul < 0 ? data.length : nul);
      for (let i = (nul < 0 ? data.length : nul); i < data.length; i++) {
        if (data[i] !== 0) throw new LayerwiseError('TAR_PATH_UNSAFE', `${subject}: NUL byte inside a GNU long name`, { subject });
      }
      if (st.kind === 'gnu-longname') this.longName = text.toString('utf8');
      else this.longLink = text.toString('utf8');
    }
    this.state = { s: 'header' };
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Reads a tar stream as events. Consumers must take each 'data' chunk before asking for the next event;
 * chunks are views into the stream's buffers and are not copied.
 */
export async function* readTar(stream: Readable | AsyncIterable<Buffer>, opts: TarReadOptions): AsyncGenerator<TarEvent> {
  const parser = new TarParser(opts);
  const events: TarEvent[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    events.length = 0;
    parser.write(chunk, events);
    for (const ev of events) yield ev;
  }
  events.length = 0;
  parser.end(events);
  for (const ev of events) yield ev;
}

/** Convenience: visits every entry with its data concatenated. Only for small archives (tests, JSON files). */
export async function readTarEntriesInMemory(stream: Readable | AsyncIterable<Buffer>, opts: TarReadOptions): Promise<{ entry: TarEntry; data: Buffer }[]> {
  const out: { entry: TarEntry; data: Buffer }[] = [];
  let parts: Buffer[] = [];
  for await (const ev of readTar(stream, opts)) {
    if (ev.kind === 'entry') parts = [];
    else if (ev.kind === 'data') parts.push(Buffer.from(ev.chunk));
    else if (ev.kind === 'entry-end') out.push({ entry: ev.entry, data: Buffer.concat(parts) });
  }
  return out;
}
