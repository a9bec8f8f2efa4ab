import { createWriteStream } from 'node:fs';
import { lstat, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LayerwiseError, asLayerwiseError } from '../errors.js';
import { layerFromTarFile } from '../image/file-layer.js';
import { appendLayers, type ConfigChanges } from '../image/mutate.js';
import type { Image } from '../model/image.js';
import { manifestFamily } from '../model/media-types.js';
import { listDirectoryEntries, settleHardlinks, tarItems, type Item } from '../tar/from-directory.js';
import { LayerSafety } from '../tar/layer-safety.js';
import { makeScratchDir } from '../stream/scratch.js';
import { openImage, type OpenOptions } from '../transports/index.js';
import type { AddSpec } from './add-spec.js';
import { loadDockerignore } from './dockerignore.js';
import { whiteoutsForReplace } from './replace.js';

export interface BuildOptions extends Pick<ConfigChanges, 'env' | 'workdir' | 'cmd' | 'entrypoint' | 'labels' | 'user'> {
  base: string | Image;
  adds: AddSpec[];
  /** Make each destination folder mirror its source: whiteouts for what the base has there and the source does not. */
  replace?: boolean;
  /** Seconds since the epoch for every mtime and for `created`; default SOURCE_DATE_EPOCH, else 0. */
  timestamp?: number;
  /** What the history entry says made the layer. */
  createdBy?: string;
  open?: OpenOptions;
}

export interface BuiltImage {
  image: Image;
  /** Entries in the new layer, whiteouts included. */
  entries: number;
  whiteouts: number;
  /** Removes the temporary layer file and closes the base; call after writing the image. */
  dispose(): Promise<void>;
}

export function buildTimestamp(explicit?: number): number {
  if (explicit !== undefined) return explicit;
  const env = process.env.SOURCE_DATE_EPOCH;
  if (env !== undefined && env !== '') {
    if (!/^\d+$/.test(env)) throw new LayerwiseError('USAGE', `SOURCE_DATE_EPOCH=${env} is not a number of seconds`);
    return Number(env);
  }
  return 0;
}

/**
 * A new image: the base plus one layer made from folders, without docker build or an engine. The layer
 * is reproducible (sorted entries, fixed mtimes and ownership), honours each source's .dockerignore,
 * and the config records the step in its history.
 */
export async function buildImage(opts: BuildOptions): Promise<BuiltImage> {
  if (opts.adds.length === 0) throw new LayerwiseError('USAGE', 'build needs at least one --add SOURCE:/destination');
  const base = typeof opts.base === 'string' ? await openImage(opts.base, opts.open) : opts.base;
  const ownsBase = typeof opts.base === 'string';
  const tmp = await makeScratchDir('build');
  try {
    const mtime = buildTimestamp(opts.timestamp);
    const byName = new Map<string, Item>();
    for (const add of opts.adds) {
      let st;
      try {
        st = await lstat(add.source);
      } catch (err) {
        throw asLayerwiseError(err, add.source);
      }
      const prefix = add.dest.replace(/^\/+/, '');
      let items: Item[];
      if (st.isDirectory()) {
        const filter = await loadDockerignore(add.source);
        items = await listDirectoryEntries(add.source, {
          prefix,
          mtime,
          parents: true,
          include: (rel, isDir) => filter.keeps(rel) || (isDir && !filter.canPrune),
        });
        if (!filter.canPrune) items = keepWithIncludedDescendants(items, prefix, filter.keeps);
      } else {
        items = await listDirectoryEntries(add.source, { prefix, mtime, parents: true });
      }
      // A later --add wins over an earlier one at the same path, as successive COPYs do.
      for (const it of items) byName.set(it.name.replace(/\/$/, ''), it);
    }
    let whiteouts: Item[] = [];
    if (opts.replace) {
      whiteouts = await whiteoutsForReplace(base, opts.adds.map((a) => a.dest), new Set(byName.keys()), mtime);
      // Where a file of the new layer replaces a base folder, the file hides the folder: no whiteouts below it.
      whiteouts = whiteouts.filter((w) => {
        const parts = w.name.split('/');
        for (let i = 1; i < parts.length; i++) {
          const at = byName.get(parts.slice(0, i).join('/'));
          if (at && at.header.type !== 'dir') return false;
        }
        return true;
      });
      for (const w of whiteouts) byName.set(w.name, w);
    }
    const items = await settleHardlinks(
      [...byName.values()].sort((a, b) => {
        const x = a.name.replace(/\/$/, '');
        const y = b.name.replace(/\/$/, '');
        return x < y ? -1 : x > y ? 1 : 0;
      }),
    );
    // The layer must pass the checks every reader applies (a file named "..\\x" is legal on Linux, not in a layer).
    const safety = new LayerSafety('new layer');
    for (const it of items) safety.check({ path: it.header.path, linkpath: it.header.linkpath ?? '', type: it.header.type });
    const file = path.join(tmp, 'layer.tar');
    await pipeline(Readable.from(tarItems(items)), createWriteStream(file, { highWaterMark: 1 << 20 }));
    const family = manifestFamily(base.mediaType);
    const layer = await layerFromTarFile(file, family);
    const created = new Date(mtime * 1000).toISOString().replace('.000Z', 'Z');
    const changes: ConfigChanges = {
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.workdir !== undefined ? { workdir: opts.workdir } : {}),
      ...(opts.cmd ? { cmd: opts.cmd } : {}),
      ...(opts.entrypoint ? { entrypoint: opts.entrypoint } : {}),
      ...(opts.labels ? { labels: opts.labels } : {}),
      ...(opts.user !== undefined ? { user: opts.user } : {}),
      created,
    };
    const createdBy = opts.createdBy ?? `layerwise build ${opts.adds.map((a) => `--add ${a.source}:${a.dest}`).join(' ')}${opts.replace ? ' --replace' : ''}`;
    const image = appendLayers(base, [{ layer, history: { created, created_by: createdBy, comment: 'layerwise build' } }], changes);
    return {
      image,
      entries: items.length,
      whiteouts: whiteouts.length,
      dispose: async () => {
        await rm(tmp, { recursive: true, force: true });
        if (ownsBase) await base.close();
      },
    };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (ownsBase) await base.close();
    throw err;
  }
}

/** With `!` rules, ignored folders were walked; keep them only where they hold something kept. */
function keepWithIncludedDescendants(items: Item[], prefix: string, keeps: (rel: string) => boolean): Item[] {
  const rel = (name: string) => {
    const n = name.replace(/\/$/, '');
    return prefix ? n.slice(prefix.length + 1) : n;
  };
  const keptFiles = items.filter((i) => i.header.type !== 'dir' && keeps(rel(i.name)));
  const needed = new Set<string>();
  for (const f of keptFiles) {
    const parts = f.name.split('/');
    for (let k = 1; k < parts.length; k++) needed.add(parts.slice(0, k).join('/'));
  }
  return items.filter((i) => {
    if (i.header.type !== 'dir') return keeps(rel(i.name));
    const n = i.name.replace(/\/$/, '');
    return n === prefix || needed.has(n) || keeps(rel(i.name));
  });
}
