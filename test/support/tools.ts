import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Whether a system tool the tests need is here. Locally a missing tool skips its tests loudly; under CI
 * (CI=true) it is an error, because .ci/run installs everything and a skip there would hide a failure.
 */
export function haveTool(binary: string, debianPackage: string): boolean {
  const found = binary.startsWith('/') ? existsSync(binary) : whichSync(binary) !== undefined;
  if (found) return true;
  const msg = `${binary} is not installed (apt-get install ${debianPackage}); tests that need it are skipped`;
  if (process.env.CI) throw new Error(`CI: ${msg.replace('are skipped', 'cannot run')}`);
  console.warn(`\n*** SKIPPING: ${msg} ***\n`);
  return false;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function whichSync(binary: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The docker CLI to drive test engines with (Debian's docker.io client when present). */
export function dockerCli(): string {
  return existsSync('/usr/bin/docker') ? '/usr/bin/docker' : whichSync('docker') ?? 'docker';
}

/** Engine tests need dockerd and root (it mounts and runs containers). */
export function haveEngine(): boolean {
  if (!haveTool('dockerd', 'docker.io')) return false;
  if (!isRoot()) {
    const msg = 'Docker engine tests need root';
    if (process.env.CI) throw new Error(`CI: ${msg}`);
    console.warn(`\n*** SKIPPING: ${msg} ***\n`);
    return false;
  }
  return true;
}
