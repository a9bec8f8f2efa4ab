import { defaultConfig } from '../../src/image/memory.js';
import type { Image } from '../../src/model/image.js';
import type { MemoryEntry } from '../../src/tar/writer.js';
import { imageFromEntries, seededBytes } from '../../src/testing/images.js';

/** A regular file of `size` deterministic bytes; the same seed gives the same content. */
export function file(path: string, size: number, seed = path): MemoryEntry {
  return { path, type: 'file', mode: 0o644, data: seededBytes(seed, size) };
}

export function text(path: string, content: string): MemoryEntry {
  return { path, type: 'file', mode: 0o644, data: Buffer.from(content) };
}

export function dir(path: string): MemoryEntry {
  return { path: path.endsWith('/') ? path : path + '/', type: 'dir', mode: 0o755 };
}

/** `.wh.NAME` beside NAME: deletes it (and everything under it) from the layers below. */
export function whiteout(path: string): MemoryEntry {
  const i = path.lastIndexOf('/');
  return { path: `${path.slice(0, i + 1)}.wh.${path.slice(i + 1)}`, type: 'file', mode: 0o644, data: Buffer.alloc(0) };
}

export function opaque(dirPath: string): MemoryEntry {
  return { path: `${dirPath.replace(/\/$/, '')}/.wh..wh..opq`, type: 'file', mode: 0o644, data: Buffer.alloc(0) };
}

/** An image with one history step (created_by) per layer. */
export function image(layers: { step: string; entries: MemoryEntry[] }[]): Image {
  return imageFromEntries(
    layers.map((l) => l.entries),
    { config: defaultConfig(layers.map((l) => ({ created_by: l.step }))) },
  );
}
