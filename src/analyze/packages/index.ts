import type { FsNode } from '../overlay.js';
import type { LayerScan } from '../scan.js';
import { captureApk, findApkPackages } from './apk.js';
import type { FoundPackage } from './common.js';
import { captureDpkg, findDpkgPackages } from './dpkg.js';
import { captureNpm, findNpmPackages } from './npm.js';
import { capturePython, findPythonPackages } from './python.js';

export type { FoundPackage } from './common.js';

/** Which files the layer scan keeps the content of: package databases and manifests, nothing else. */
export function capturePackageMetadata(path: string, size: number): boolean {
  return captureDpkg(path, size) || capturePython(path, size) || captureNpm(path, size) || captureApk(path, size);
}

/** Installed packages of every supported ecosystem, largest first. */
export function findPackages(scans: readonly LayerScan[], root: FsNode): FoundPackage[] {
  const all = [...findDpkgPackages(scans, root), ...findApkPackages(scans, root), ...findPythonPackages(scans, root), ...findNpmPackages(scans, root)];
  return all.sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
}
