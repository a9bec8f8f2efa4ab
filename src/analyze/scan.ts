import type { Readable } from 'node:stream';
import xxhash from 'xxhash-wasm';
import { asLayerwiseError } from '../errors.js';
import type { Layer } from '../model/image.js';
import { LayerSafety } from '../tar/layer-safety.js';
import { TarParser, type TarEvent } from '../tar/reader.js';
import { baseName, normalizeLayerPath, parentOf } from './paths.js';

/** What one tar member is, after OCI whiteout names are decoded. */
export type EntryKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other' | 'whiteout' | 'opaque';

/**
 * Metadata of one layer member: never its contents (except the few package-database files a
 * caller asks to capture). For whiteouts `path` is the path deleted; for opaque markers, the directory.
 */
export interface ScannedEntry {
  path: string;
  kind: EntryKind;
  /** Bytes of content (regular files only; 0 for everything else). */
  size: number;
  mode: number;
  /** Symlink target as written, or the normalised path a hardlink points to. */
  link?: string;
  /** xxh64 of the content, 16 hex digits (regular files with content); with the size, the file's identity. */
  hash?: string;
  /** Content, for files the capture predicate selected. */
  content?: Buffer;
}

export interface LayerScan {
  index: number;
  entries: ScannedEntry[];
  /** Bytes of the uncompressed tar stream. */
  tarBytes: number;
}

export interface ScanOptions {
  /** Keeps the content of files for which this returns true (package databases). */
  capture?: (path: string, size: number) => boolean;
  /** Called with the number of tar bytes read, for progress. */
  onBytes?: (n: number) => void;
}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';

let api: Awaited<ReturnType<typeof xxhash>> | undefined;

/** The xxHash WebAssembly module, instantiated once per process. */
async function xxh(): Promise<Awaited<ReturnType<typeof xxhash>>> {
  api ??= await xxhash();
  return api;
}

/**
 * Reads one layer's tar once and records each member's metadata. Content of regular files is hashed
 * with xxh64 (about 5 GB/s in WebAssembly, four times node's sha256) so duplicates can be found
 * without keeping any content; the layer stream itself still verifies the diffID. Size plus a 64-bit
 * hash only decides what the report calls a duplicate; nothing is rebuilt from it.
 */
export async function scanLayer(layer: Layer, index: number, opts: ScanOptions = {}): Promise<LayerScan> {
  const subject = `layer ${index} (${layer.diffId})`;
  // File-backed layers read ahead on their own (FileWindow), so parsing overlaps the next reads.
  const stream = await layer.uncompressed();
  return scanTarStream(stream, index, subject, opts);
}

export async function scanTarStream(stream: Readable | AsyncIterable<Buffer>, index: number, subject: string, opts: ScanOptions = {}): Promise<LayerScan> {
  const x = await xxh();
  let hasher = x.create64();
  const parser = new TarParser({ subject });
  // A layer that could escape its root or be read two ways has no single filesystem to report on.
  const safety = new LayerSafety(subject);
  const entries: ScannedEntry[] = [];
  const events: TarEvent[] = [];
  let current: ScannedEntry | undefined;
  let hashing = false;
  let parts: Buffer[] | undefined;
  const onEvent = (ev: TarEvent): void => {
    switch (ev.kind) {
      case 'entry': {
        const e = ev.entry;
        safety.check(e);
        const path = normalizeLayerPath(e.path);
        const name = baseName(path);
        let rec: ScannedEntry;
        if (name === OPAQUE) {
          rec = { path: parentOf(path), kind: 'opaque', size: 0, mode: e.mode };
        } else if (name.startsWith(WHITEOUT_PREFIX)) {
          const dir = parentOf(path);
          const target = name.slice(WHITEOUT_PREFIX.length);
          rec = { path: dir ? `${dir}/${target}` : target, kind: 'whiteout', size: 0, mode: e.mode };
        } else {
          switch (e.type) {
            case 'file':
            case 'contiguous':
            case 'unknown':
              rec = { path, kind: 'file', size: e.size, mode: e.mode };
              break;
            case 'dir':
              rec = { path, kind: 'dir', size: 0, mode: e.mode };
              break;
            case 'symlink':
              rec = { path, kind: 'symlink', size: 0, mode: e.mode, link: e.linkpath };
              break;
            case 'hardlink':
              rec = { path, kind: 'hardlink', size: 0, mode: e.mode, link: normalizeLayerPath(e.linkpath) };
              break;
            default:
              rec = { path, kind: 'other', size: 0, mode: e.mode };
          }
        }
        if (path === '' && rec.kind === 'dir') {
          current = undefined; // "./" itself: the root carries nothing to account for
          return;
        }
        entries.push(rec);
        current = rec;
        hashing = rec.kind === 'file' && e.size > 0;
        if (hashing) hasher = x.create64();
        parts = rec.kind === 'file' && opts.capture?.(path, e.size) ? [] : undefined;
        return;
      }
      case 'data':
        if (hashing) hasher.update(ev.chunk);
        if (parts) parts.push(Buffer.from(ev.chunk));
        return;
      case 'entry-end':
        if (current && hashing) current.hash = hasher.digest().toString(16).padStart(16, '0');
        if (current && parts) current.content = Buffer.concat(parts);
        hashing = false;
        parts = undefined;
        current = undefined;
        return;
      case 'end':
        return;
    }
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      events.length = 0;
      parser.write(chunk, events);
      for (const ev of events) onEvent(ev);
      opts.onBytes?.(chunk.length);
    }
    events.length = 0;
    parser.end(events);
    for (const ev of events) onEvent(ev);
  } catch (err) {
    throw asLayerwiseError(err, subject);
  }
  return { index, entries, tarBytes: parser.position };
}
