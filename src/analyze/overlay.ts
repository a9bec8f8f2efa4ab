import { parentOf } from './paths.js';
import type { LayerScan, ScannedEntry } from './scan.js';

/** A node of the merged filesystem: the entry that is visible at this path and the layer that wrote it. */
export interface FsNode {
  name: string;
  parent: FsNode | undefined;
  /** undefined for directories no layer wrote explicitly (implied by a deeper path). */
  entry: ScannedEntry | undefined;
  /** Layer index of `entry`; for implied directories, the layer that first implied them. */
  layer: number;
  children: Map<string, FsNode> | undefined;
}

/** Why a stored entry is no longer visible. */
export type HideReason = 'deleted' | 'overwritten';

/** One stored entry that a later entry hid, with the path whose change hid it (the whiteout, or the overwrite). */
export interface HiddenEntry {
  path: string;
  entry: ScannedEntry;
  /** Layer that stored the entry. */
  layer: number;
  /** Layer whose whiteout, opaque marker or newer entry hid it. */
  by: number;
  reason: HideReason;
  /** The path that was deleted or overwritten (an ancestor of `path` when a whole folder went). */
  root: string;
}

/** What one layer did to the filesystem below it. Counts are of non-directory entries. */
export interface LayerChanges {
  added: { files: number; bytes: number };
  modified: { files: number; bytes: number };
  removed: { files: number; bytes: number };
  /** Every non-directory path behind the counts, with its size (the report keeps the largest). */
  paths: { added: [string, number][]; modified: [string, number][]; removed: [string, number][] };
}

export interface MergedFilesystem {
  root: FsNode;
  /** Every stored non-directory entry that the final filesystem does not show, in the order the layers hid them. */
  hidden: HiddenEntry[];
  changes: LayerChanges[];
}

function newDir(name: string, parent: FsNode | undefined, layer: number): FsNode {
  return { name, parent, entry: undefined, layer, children: new Map() };
}

export function isDirNode(n: FsNode): boolean {
  return n.children !== undefined;
}

export function nodePath(n: FsNode): string {
  const parts: string[] = [];
  for (let c: FsNode | undefined = n; c && c.parent; c = c.parent) parts.push(c.name);
  return parts.reverse().join('/');
}

/** Looks a path up without following symlinks. */
export function lookup(root: FsNode, path: string): FsNode | undefined {
  if (path === '') return root;
  let n: FsNode | undefined = root;
  for (const part of path.split('/')) {
    n = n.children?.get(part);
    if (!n) return undefined;
  }
  return n;
}

/**
 * Looks a path up following symlinks in every component (so /bin/ls finds usr/bin/ls on a
 * merged-/usr system), as the kernel would inside the container. Gives up after 40 links.
 */
export function resolve(root: FsNode, path: string): FsNode | undefined {
  const queue = path.split('/').filter((p) => p !== '' && p !== '.');
  let cur: FsNode = root;
  let hops = 0;
  while (queue.length > 0) {
    const part = queue.shift()!;
    if (part === '..') {
      cur = cur.parent ?? root;
      continue;
    }
    const next = cur.children?.get(part);
    if (!next) return undefined;
    if (next.entry?.kind === 'symlink' && (queue.length > 0)) {
      if (++hops > 40) return undefined;
      const target = next.entry.link ?? '';
      const parts = target.split('/').filter((p) => p !== '' && p !== '.');
      queue.unshift(...parts);
      if (target.startsWith('/')) cur = root;
      continue;
    }
    cur = next;
  }
  return cur;
}

/** Visits every node under `n` (n itself included), depth first. */
export function* walk(n: FsNode, path = nodePath(n)): Generator<[string, FsNode]> {
  yield [path, n];
  if (!n.children) return;
  for (const [name, c] of n.children) yield* walk(c, path === '' ? name : `${path}/${name}`);
}

const emptyChanges = (): LayerChanges => ({
  added: { files: 0, bytes: 0 },
  modified: { files: 0, bytes: 0 },
  removed: { files: 0, bytes: 0 },
  paths: { added: [], modified: [], removed: [] },
});

/**
 * Stacks layers with OCI whiteout semantics: in each layer, `.wh.NAME` deletes NAME and everything
 * under it and `.wh..wh..opq` hides every lower-layer child of its directory (both act only on the
 * layers below); then the layer's own entries are applied, a later entry replacing an earlier one at
 * the same path, and a non-directory replacing a directory together with its contents.
 */
export function mergeLayers(scans: readonly LayerScan[]): MergedFilesystem {
  const root = newDir('', undefined, 0);
  const hidden: HiddenEntry[] = [];
  const changes: LayerChanges[] = [];

  const hideSubtree = (n: FsNode, path: string, by: number, reason: HideReason, rootPath: string, ch: LayerChanges): void => {
    if (n.entry && n.entry.kind !== 'dir') {
      ch.removed.files++;
      ch.removed.bytes += n.entry.size;
      ch.paths.removed.push([path, n.entry.size]);
    }
    if (n.entry && n.entry.kind !== 'dir') hidden.push({ path, entry: n.entry, layer: n.layer, by, reason, root: rootPath });
    if (n.children) for (const [name, c] of n.children) hideSubtree(c, `${path}/${name}`, by, reason, rootPath, ch);
  };

  const ensureDir = (path: string, layer: number): FsNode => {
    let n = root;
    if (path === '') return n;
    for (const part of path.split('/')) {
      let c = n.children!.get(part);
      if (!c) {
        c = newDir(part, n, layer);
        n.children!.set(part, c);
      } else if (!c.children) {
        // A lower non-directory sits where this layer puts a directory: the layer replaced it.
        // (A well-formed layer has a whiteout for it; tolerate the ones that do not.)
        if (c.entry) hidden.push({ path: nodePath(c), entry: c.entry, layer: c.layer, by: layer, reason: 'overwritten', root: nodePath(c) });
        c.entry = undefined;
        c.layer = layer;
        c.children = new Map();
      }
      n = c;
    }
    return n;
  };

  for (const scan of scans) {
    const L = scan.index;
    const ch = emptyChanges();
    changes.push(ch);
    // Whiteouts act on the layers below, whatever their position in this layer's tar.
    for (const e of scan.entries) {
      if (e.kind === 'whiteout') {
        const n = lookup(root, e.path);
        if (n && n.parent) {
          n.parent.children!.delete(n.name);
          hideSubtree(n, e.path, L, 'deleted', e.path, ch);
        }
      } else if (e.kind === 'opaque') {
        const n = lookup(root, e.path);
        if (n?.children) {
          for (const [name, c] of n.children) {
            if (c.layer >= L) continue;
            n.children.delete(name);
            const p = e.path === '' ? name : `${e.path}/${name}`;
            hideSubtree(c, p, L, 'deleted', e.path, ch);
          }
        }
      }
    }
    for (const e of scan.entries) {
      if (e.kind === 'whiteout' || e.kind === 'opaque') continue;
      const parent = ensureDir(parentOf(e.path), L);
      const name = e.path.slice(e.path.lastIndexOf('/') + 1);
      const old = parent.children!.get(name);
      if (e.kind === 'dir') {
        if (old?.children) {
          old.entry = e;
          old.layer = L;
          continue;
        }
        if (old) {
          hideSubtree(old, e.path, L, 'overwritten', e.path, ch);
        }
        const n = newDir(name, parent, L);
        n.entry = e;
        parent.children!.set(name, n);
        continue;
      }
      if (!old) {
        ch.added.files++;
        ch.added.bytes += e.size;
        ch.paths.added.push([e.path, e.size]);
      } else if (old.children) {
        // A directory (and all it held) replaced by a non-directory.
        hideSubtree(old, e.path, L, 'overwritten', e.path, ch);
        ch.added.files++;
        ch.added.bytes += e.size;
        ch.paths.added.push([e.path, e.size]);
      } else if (old.layer === L) {
        // The same path twice in one tar: the later member wins; the change was counted with the first.
        if (old.entry) hidden.push({ path: e.path, entry: old.entry, layer: L, by: L, reason: 'overwritten', root: e.path });
      } else {
        if (old.entry) hidden.push({ path: e.path, entry: old.entry, layer: old.layer, by: L, reason: 'overwritten', root: e.path });
        ch.modified.files++;
        ch.modified.bytes += e.size;
        ch.paths.modified.push([e.path, e.size]);
      }
      parent.children!.set(name, { name, parent, entry: e, layer: L, children: undefined });
    }
  }
  return { root, hidden, changes };
}
