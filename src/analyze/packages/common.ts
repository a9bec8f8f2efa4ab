import { lookup, resolve, type FsNode } from '../overlay.js';
import type { LayerScan, ScannedEntry } from '../scan.js';

/** A package found in the image, with the final-filesystem nodes of its files (for toolchain checks). */
export interface FoundPackage {
  ecosystem: 'dpkg' | 'python' | 'npm' | 'apk';
  name: string;
  version: string;
  bytes: number;
  files: number;
  /** Layer that installed it. */
  layer: number;
  /** Metadata path, display form. */
  source: string;
  nodes: FsNode[];
}

/** Captured metadata files that are visible in the final filesystem. */
export function* visibleCaptured(scans: readonly LayerScan[], root: FsNode, test: (path: string) => boolean): Generator<{ path: string; entry: ScannedEntry; layer: number; content: Buffer }> {
  for (const s of scans) {
    for (const e of s.entries) {
      if (e.content === undefined || !test(e.path)) continue;
      if (lookup(root, e.path)?.entry !== e) continue;
      yield { path: e.path, entry: e, layer: s.index, content: e.content };
    }
  }
}

/** Every captured copy of one metadata file, layer by layer (the package database as each layer left it). */
export function* capturedVersions(scans: readonly LayerScan[], path: string): Generator<{ layer: number; content: Buffer }> {
  for (const s of scans) {
    for (const e of s.entries) {
      if (e.content !== undefined && e.path === path) yield { layer: s.index, content: e.content };
    }
  }
}

/**
 * Sums the visible regular files among `paths` (absolute or root-relative), resolving symlinked
 * folders such as a merged /usr, and counting each file once.
 */
export function sumFiles(root: FsNode, paths: Iterable<string>): { bytes: number; files: number; nodes: FsNode[] } {
  const seen = new Set<FsNode>();
  let bytes = 0;
  for (const p of paths) {
    const n = lookup(root, p.replace(/^\/+/, '')) ?? resolve(root, p);
    if (!n || seen.has(n) || n.entry?.kind !== 'file') continue;
    seen.add(n);
    bytes += n.entry.size;
  }
  return { bytes, files: seen.size, nodes: [...seen] };
}

/** The first layer (in order) whose copy of the database lists name at version; `fallback` otherwise. */
export function installingLayer(versions: readonly { layer: number; packages: Map<string, string> }[], name: string, version: string, fallback: number): number {
  for (const v of versions) if (v.packages.get(name) === version) return v.layer;
  return fallback;
}

/** Splits a Debian-control-style file (dpkg status, apk installed) into stanzas separated by blank lines. */
export function stanzas(text: string): string[] {
  return text.split(/\n\s*\n/).filter((s) => s.trim() !== '');
}
