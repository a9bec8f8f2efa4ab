import { createCipheriv, createHash } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { assembleImage, defaultConfig, MemoryLayer } from '../image/memory.js';
import type { HistoryEntry } from '../model/config.js';
import type { Image } from '../model/image.js';
import type { Compression } from '../model/media-types.js';
import { tarDirectory, type DirectoryTarOptions } from '../tar/from-directory.js';
import { tarFromEntries, type MemoryEntry } from '../tar/writer.js';

/** Deterministic pseudo-random bytes (AES-128-CTR keyed by the seed), so tests need no fixture files. */
export function seededBytes(seed: string, length: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

export interface RandomImageOptions {
  layers?: number;
  filesPerLayer?: number;
  fileSize?: number;
  seed?: string;
  compression?: Compression;
  family?: 'oci' | 'docker';
}

/** A random image like go-containerregistry's random.Image: N layers of M files of random bytes. */
export function randomImage(opts: RandomImageOptions = {}): Image {
  const seed = opts.seed ?? 'random';
  const layers: MemoryLayer[] = [];
  const history: HistoryEntry[] = [];
  for (let l = 0; l < (opts.layers ?? 3); l++) {
    const entries: MemoryEntry[] = [{ path: `layer${l}/`, type: 'dir', mode: 0o755 }];
    for (let f = 0; f < (opts.filesPerLayer ?? 4); f++) {
      entries.push({ path: `layer${l}/file${f}.bin`, type: 'file', mode: 0o644, data: seededBytes(`${seed}:${l}:${f}`, opts.fileSize ?? 1024) });
    }
    layers.push(MemoryLayer.fromTar(tarFromEntries(entries), { compression: opts.compression ?? 'gzip', family: opts.family }));
    history.push({ created: '1970-01-01T00:00:00Z', created_by: `random layer ${l}` });
  }
  return assembleImage({ layers, config: defaultConfig(history), family: opts.family });
}

/** An image whose layers are the given in-memory entry lists. */
export function imageFromEntries(layerEntries: MemoryEntry[][], opts: { compression?: Compression; family?: 'oci' | 'docker'; config?: Parameters<typeof assembleImage>[0]['config'] } = {}): Image {
  const layers = layerEntries.map((entries) => MemoryLayer.fromTar(tarFromEntries(entries), { compression: opts.compression ?? 'gzip', family: opts.family }));
  const history = layers.map((_, i) => ({ created: '1970-01-01T00:00:00Z', created_by: `layer ${i}` }));
  return assembleImage({ layers, config: opts.config ?? defaultConfig(history), family: opts.family });
}

/** Tars a directory deterministically into memory (sorted entries, fixed mtimes, uid/gid 0). */
export async function tarDirectoryToBuffer(dir: string, opts: DirectoryTarOptions = {}): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of Readable.from(tarDirectory(dir, opts))) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** A one-layer image made from a directory, for tests. */
export async function imageFromDirectory(dir: string, opts: DirectoryTarOptions & { compression?: Compression; family?: 'oci' | 'docker'; cmd?: string[] } = {}): Promise<Image> {
  const tar = await tarDirectoryToBuffer(dir, opts);
  const layer = MemoryLayer.fromTar(tar, { compression: opts.compression ?? 'gzip', family: opts.family });
  const config = defaultConfig([{ created: '1970-01-01T00:00:00Z', created_by: `layerwise: directory ${path.basename(dir)}` }]);
  if (opts.cmd) config.config = { ...(config.config ?? {}), Cmd: opts.cmd };
  return assembleImage({ layers: [layer], config, family: opts.family });
}
