import type { FsNode } from '../overlay.js';
import type { LayerScan } from '../scan.js';
import { capturedVersions, installingLayer, stanzas, sumFiles, visibleCaptured, type FoundPackage } from './common.js';

const DB = 'lib/apk/db/installed';

export function captureApk(path: string, size: number): boolean {
  return path === DB && size <= 64 << 20;
}

interface ApkRecord {
  name: string;
  version: string;
  paths: string[];
}

/** Parses apk's installed database: P: name, V: version, F: folder, R: file in the last F. */
export function parseApkInstalled(text: string): ApkRecord[] {
  const out: ApkRecord[] = [];
  for (const st of stanzas(text)) {
    let name = '';
    let version = '';
    let dir = '';
    const paths: string[] = [];
    for (const line of st.split('\n')) {
      const k = line.slice(0, 2);
      const v = line.slice(2);
      if (k === 'P:') name = v;
      else if (k === 'V:') version = v;
      else if (k === 'F:') dir = v;
      else if (k === 'R:') paths.push(dir ? `${dir}/${v}` : v);
    }
    if (name) out.push({ name, version, paths });
  }
  return out;
}

/** Alpine packages from /lib/apk/db/installed. */
export function findApkPackages(scans: readonly LayerScan[], root: FsNode): FoundPackage[] {
  let db: { content: Buffer; layer: number } | undefined;
  for (const c of visibleCaptured(scans, root, (p) => p === DB)) db = c;
  if (!db) return [];
  const versions = [...capturedVersions(scans, DB)].map((v) => ({ layer: v.layer, packages: new Map(parseApkInstalled(v.content.toString('utf8')).map((r) => [r.name, r.version])) }));
  return parseApkInstalled(db.content.toString('utf8')).map((r) => ({
    ecosystem: 'apk' as const,
    name: r.name,
    version: r.version,
    ...sumFiles(root, r.paths),
    layer: installingLayer(versions, r.name, r.version, db!.layer),
    source: '/' + DB,
  }));
}
