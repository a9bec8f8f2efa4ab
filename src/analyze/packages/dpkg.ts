import type { FsNode } from '../overlay.js';
import type { LayerScan } from '../scan.js';
import { capturedVersions, installingLayer, stanzas, sumFiles, visibleCaptured, type FoundPackage } from './common.js';

const STATUS = 'var/lib/dpkg/status';
const LIST_RE = /^var\/lib\/dpkg\/info\/([^/]+)\.list$/;
// distroless images keep one status stanza per package here, with an .md5sums file list beside it.
const STATUS_D_RE = /^var\/lib\/dpkg\/status\.d\/([^/]+)$/;

export function captureDpkg(path: string, size: number): boolean {
  if (path === STATUS) return size <= 64 << 20;
  return (LIST_RE.test(path) || STATUS_D_RE.test(path)) && size <= 16 << 20;
}

interface StatusRecord {
  name: string;
  arch: string;
  version: string;
  installed: boolean;
}

export function parseDpkgStatus(text: string): StatusRecord[] {
  const out: StatusRecord[] = [];
  for (const st of stanzas(text)) {
    const f = new Map<string, string>();
    let last = '';
    for (const line of st.split('\n')) {
      if (/^\s/.test(line)) continue; // continuation of a multi-line field
      const i = line.indexOf(':');
      if (i <= 0) continue;
      last = line.slice(0, i).toLowerCase();
      f.set(last, line.slice(i + 1).trim());
    }
    const name = f.get('package');
    if (!name) continue;
    const status = f.get('status') ?? 'install ok installed';
    out.push({ name, arch: f.get('architecture') ?? '', version: f.get('version') ?? '', installed: /\binstalled$/.test(status) });
  }
  return out;
}

function versionMap(content: Buffer): Map<string, string> {
  return new Map(parseDpkgStatus(content.toString('utf8')).filter((r) => r.installed).map((r) => [r.name, r.version]));
}

/** Debian packages from dpkg's status database and info/*.list file lists (or distroless status.d). */
export function findDpkgPackages(scans: readonly LayerScan[], root: FsNode): FoundPackage[] {
  const lists = new Map<string, { layer: number; paths: string[]; source: string }>();
  for (const c of visibleCaptured(scans, root, (p) => LIST_RE.test(p))) {
    const file = LIST_RE.exec(c.path)![1]!;
    const name = file.replace(/:[^:]+$/, '');
    lists.set(name, { layer: c.layer, paths: c.content.toString('utf8').split('\n').filter((l) => l.startsWith('/')), source: '/' + c.path });
  }
  const out: FoundPackage[] = [];
  const statusNode = visibleStatus(scans, root);
  if (statusNode) {
    const versions = [...capturedVersions(scans, STATUS)].map((v) => ({ layer: v.layer, packages: versionMap(v.content) }));
    for (const r of parseDpkgStatus(statusNode.content.toString('utf8'))) {
      if (!r.installed) continue;
      const list = lists.get(r.name);
      const files = sumFiles(root, list?.paths ?? []);
      out.push({
        ecosystem: 'dpkg',
        name: r.name,
        version: r.version,
        ...files,
        layer: installingLayer(versions, r.name, r.version, list?.layer ?? statusNode.layer),
        source: list?.source ?? '/' + STATUS,
      });
    }
  }
  // distroless: status.d/NAME holds the stanza, status.d/NAME.md5sums lists "md5  path" lines.
  const sums = new Map<string, string[]>();
  for (const c of visibleCaptured(scans, root, (p) => STATUS_D_RE.test(p) && p.endsWith('.md5sums'))) {
    const name = STATUS_D_RE.exec(c.path)![1]!.replace(/\.md5sums$/, '');
    sums.set(name, c.content.toString('utf8').split('\n').map((l) => l.replace(/^[0-9a-f]+\s+/, '')).filter((l) => l !== ''));
  }
  for (const c of visibleCaptured(scans, root, (p) => STATUS_D_RE.test(p) && !p.endsWith('.md5sums'))) {
    for (const r of parseDpkgStatus(c.content.toString('utf8'))) {
      if (!r.installed || out.some((o) => o.name === r.name)) continue;
      const key = STATUS_D_RE.exec(c.path)![1]!;
      const files = sumFiles(root, sums.get(key) ?? sums.get(r.name) ?? []);
      out.push({ ecosystem: 'dpkg', name: r.name, version: r.version, ...files, layer: c.layer, source: '/' + c.path });
    }
  }
  return out;
}

function visibleStatus(scans: readonly LayerScan[], root: FsNode): { content: Buffer; layer: number } | undefined {
  for (const c of visibleCaptured(scans, root, (p) => p === STATUS)) return c;
  return undefined;
}
