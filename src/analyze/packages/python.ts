import { parentOf } from '../paths.js';
import type { FsNode } from '../overlay.js';
import type { LayerScan } from '../scan.js';
import { sumFiles, visibleCaptured, type FoundPackage } from './common.js';

const RECORD_RE = /(?:^|\/)(?:site|dist)-packages\/([^/]+)\.dist-info\/RECORD$/;

export function capturePython(path: string, size: number): boolean {
  return RECORD_RE.test(path) && size <= 16 << 20;
}

/** The path column of a RECORD file (CSV: path,hash,size; paths with commas are quoted). */
export function recordPaths(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('"')) {
      let i = 1;
      let p = '';
      while (i < line.length) {
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            p += '"';
            i += 2;
            continue;
          }
          break;
        }
        p += line[i++];
      }
      out.push(p);
    } else {
      const comma = line.indexOf(',');
      out.push(comma < 0 ? line : line.slice(0, comma));
    }
  }
  return out;
}

/** Python distributions: each `*.dist-info/RECORD` in a site-packages folder, bytes from the files it lists. */
export function findPythonPackages(scans: readonly LayerScan[], root: FsNode): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const c of visibleCaptured(scans, root, (p) => RECORD_RE.test(p))) {
    const distInfo = parentOf(c.path);
    const sitePackages = parentOf(distInfo);
    const stem = RECORD_RE.exec(c.path)![1]!;
    const dash = stem.indexOf('-');
    const name = dash < 0 ? stem : stem.slice(0, dash);
    const version = dash < 0 ? '' : stem.slice(dash + 1);
    // RECORD paths are relative to site-packages; scripts reach out with ../../../bin/x.
    const paths = recordPaths(c.content.toString('utf8')).map((p) => (p.startsWith('/') ? p : `/${sitePackages}/${p}`));
    const files = sumFiles(root, paths.map(normalise));
    out.push({ ecosystem: 'python', name, version, ...files, layer: c.layer, source: '/' + c.path });
  }
  return out;
}

function normalise(p: string): string {
  const parts: string[] = [];
  for (const s of p.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') parts.pop();
    else parts.push(s);
  }
  return parts.join('/');
}
