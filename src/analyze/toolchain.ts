import { nodePath, type FsNode } from './overlay.js';
import type { FoundPackage } from './packages/index.js';

// Compilers, linkers, build tools and development headers: needed to build, not to run.
const TOOLCHAIN_PACKAGE = /^(?:build-essential|build-base|gcc|g\+\+|c\+\+|cpp|gfortran|make|cmake|ninja-build|automake|autoconf|libtool|binutils|dpkg-dev|clang|llvm|lld|rustc|cargo|golang|go|pkg-config|pkgconf|musl-dev|libc6-dev|linux-libc-dev|linux-headers)(?:-[\w.+~]+)*$|-dev$/;
// Runtime pieces that share a toolchain prefix.
const NOT_TOOLCHAIN = /-base$|^libgcc|^gcc-\d+-base$|-runtime$|^llvm-\d+-linker-tools$/;

export function isToolchainPackage(p: Pick<FoundPackage, 'ecosystem' | 'name'>): boolean {
  if (p.ecosystem !== 'dpkg' && p.ecosystem !== 'apk') return false;
  return TOOLCHAIN_PACKAGE.test(p.name) && !NOT_TOOLCHAIN.test(p.name);
}

/** Toolchains installed without a package manager (or alongside one). */
const TOOLCHAIN_PATH = /^(usr\/lib\/gcc|usr\/libexec\/gcc|usr\/local\/go|usr\/lib\/go-[^/]+|usr\/local\/rustup|usr\/local\/cargo|root\/\.rustup|root\/\.cargo|usr\/include)\//;

export function toolchainRoot(path: string): string | undefined {
  return TOOLCHAIN_PATH.exec(path)?.[1];
}

export interface ToolchainGroup {
  layer: number;
  packages: string[];
  roots: Map<string, number>;
  nodes: Set<FsNode>;
  bytes: number;
}

/**
 * Groups build-toolchain bytes by the layer that installed them: files of toolchain packages, plus
 * files under well-known toolchain folders. `claimed` files (already reported as junk) are skipped.
 */
export function findToolchains(packages: readonly FoundPackage[], pathFiles: readonly { path: string; node: FsNode; root: string }[], claimed: ReadonlySet<FsNode>): ToolchainGroup[] {
  const groups = new Map<number, ToolchainGroup>();
  const all = new Set<FsNode>();
  const group = (layer: number): ToolchainGroup => {
    let g = groups.get(layer);
    if (!g) groups.set(layer, (g = { layer, packages: [], roots: new Map(), nodes: new Set(), bytes: 0 }));
    return g;
  };
  for (const p of packages) {
    if (!isToolchainPackage(p)) continue;
    const g = group(p.layer);
    let bytes = 0;
    for (const n of p.nodes) {
      if (claimed.has(n) || all.has(n) || n.entry?.kind !== 'file') continue;
      all.add(n);
      g.nodes.add(n);
      bytes += n.entry.size;
      const top = '/' + nodePath(n).split('/').slice(0, 3).join('/');
      g.roots.set(top, (g.roots.get(top) ?? 0) + n.entry.size);
    }
    if (bytes === 0) continue;
    g.packages.push(p.name);
    g.bytes += bytes;
  }
  for (const f of pathFiles) {
    if (claimed.has(f.node) || all.has(f.node) || f.node.entry?.kind !== 'file') continue;
    all.add(f.node);
    const g = group(f.node.layer);
    g.nodes.add(f.node);
    g.bytes += f.node.entry.size;
    g.roots.set('/' + f.root, (g.roots.get('/' + f.root) ?? 0) + f.node.entry.size);
  }
  return [...groups.values()].filter((g) => g.bytes > 0).sort((a, b) => b.bytes - a.bytes);
}
