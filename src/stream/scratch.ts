import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { processAlive } from './atomic.js';

/** Where layerwise keeps scratch files: $LAYERWISE_TMPDIR, else the system temporary directory. */
export function scratchRoot(): string {
  return process.env.LAYERWISE_TMPDIR || os.tmpdir();
}

const SCRATCH_NAME = /^layerwise-[a-z]+-(\d+)-[A-Za-z0-9]{6}$/;

/**
 * A new scratch directory, "layerwise-KIND-PID-XXXXXX". Those of runs that are gone (killed before they
 * could remove theirs) are removed first: base-layer spools and engine exports can be gigabytes.
 */
export async function makeScratchDir(kind: string): Promise<string> {
  const root = scratchRoot();
  await removeDeadScratch(root);
  return mkdtemp(path.join(root, `layerwise-${kind}-${process.pid}-`));
}

async function removeDeadScratch(root: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return;
  }
  for (const n of names) {
    const m = SCRATCH_NAME.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && !processAlive(pid)) await rm(path.join(root, n), { recursive: true, force: true });
  }
}
