import { parentOf } from '../paths.js';
import { lookup, type FsNode } from '../overlay.js';
import type { LayerScan } from '../scan.js';
import { visibleCaptured, type FoundPackage } from './common.js';

const PACKAGE_JSON_RE = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/@.][^/]*)\/package\.json$/;

export function captureNpm(path: string, size: number): boolean {
  return PACKAGE_JSON_RE.test(path) && size <= 1 << 20;
}

/** npm packages: every node_modules/NAME/package.json; bytes are the package folder without its own node_modules. */
export function findNpmPackages(scans: readonly LayerScan[], root: FsNode): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const c of visibleCaptured(scans, root, (p) => PACKAGE_JSON_RE.test(p))) {
    const dirName = PACKAGE_JSON_RE.exec(c.path)![1]!;
    let name = dirName;
    let version = '';
    try {
      const pj = JSON.parse(c.content.toString('utf8')) as { name?: unknown; version?: unknown };
      if (typeof pj.name === 'string' && pj.name) name = pj.name;
      if (typeof pj.version === 'string') version = pj.version;
    } catch {
      // A broken package.json still names its folder; keep the package with the folder name.
    }
    const dir = lookup(root, parentOf(c.path));
    if (!dir) continue;
    const nodes: FsNode[] = [];
    let bytes = 0;
    const visit = (n: FsNode): void => {
      if (n.children) {
        for (const [childName, child] of n.children) {
          if (childName === 'node_modules' && n === dir) continue; // nested dependencies are packages of their own
          visit(child);
        }
      } else if (n.entry?.kind === 'file') {
        bytes += n.entry.size;
        nodes.push(n);
      }
    };
    visit(dir);
    out.push({ ecosystem: 'npm', name, version, bytes, files: nodes.length, layer: c.layer, source: '/' + c.path, nodes });
  }
  return out;
}

