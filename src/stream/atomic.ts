import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { LayerwiseError, asLayerwiseError } from '../errors.js';

/** A sibling temporary name, recognisable so a rerun can clean leftovers of a killed run. */
export function tempSibling(dest: string): string {
  const dir = path.dirname(dest);
  return path.join(dir, `.${path.basename(dest)}.lw-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** True for names made by tempSibling, and for the other temporaries layerwise writes (".lw-tmp-PID-x" blobs, side files). */
export function isTempName(name: string): boolean {
  return /^\.(.+\.)?lw-tmp-\d+-[0-9a-f]{8}(\.[a-z]+)?$/.test(name);
}

function tempOwner(name: string): number {
  return Number(/lw-tmp-(\d+)-/.exec(name)?.[1]);
}

export async function fsyncPath(p: string): Promise<void> {
  const fh = await open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  try {
    await fsyncPath(dir);
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Removes leftovers of runs that were killed before they could rename their output into place. */
export async function cleanTempSiblings(dest: string): Promise<void> {
  const dir = path.dirname(dest);
  const base = path.basename(dest);
  const { readdir } = await import('node:fs/promises');
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (n.startsWith(`.${base}.lw-tmp-`) && isTempName(n)) {
      const pid = tempOwner(n);
      if (pid !== process.pid && !processAlive(pid)) await rm(path.join(dir, n), { recursive: true, force: true });
    }
  }
}

/** Removes every temporary in `dir` left by a run that is gone (inside an existing OCI layout: blobs, index.json). */
export async function cleanDeadTemps(dir: string): Promise<void> {
  const { readdir } = await import('node:fs/promises');
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!isTempName(n)) continue;
    const pid = tempOwner(n);
    if (pid !== process.pid && !processAlive(pid)) await rm(path.join(dir, n), { recursive: true, force: true });
  }
}

/** Whether a process with this PID exists here (EPERM: it does, owned by someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Writes `dest` through a temporary sibling: `work(tmp)` fills it, then it is fsynced and renamed into
 * place. If work fails, the temporary is removed and `dest` is untouched.
 */
export async function writeAtomically<T>(dest: string, work: (tmp: string) => Promise<T>, opts: { overwrite?: boolean } = {}): Promise<T> {
  await mkdir(path.dirname(path.resolve(dest)), { recursive: true });
  await cleanTempSiblings(dest);
  if (!opts.overwrite && (await exists(dest))) {
    throw new LayerwiseError('DESTINATION_EXISTS', `${dest}: already exists (remove it first)`, { subject: dest });
  }
  const tmp = tempSibling(dest);
  try {
    const result = await work(tmp);
    await fsyncPath(tmp);
    await rename(tmp, dest);
    await fsyncDir(path.dirname(dest));
    return result;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw asLayerwiseError(err, dest);
  }
}
