import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as dockerignore from '@balena/dockerignore';

// The package is CommonJS with an ESM-unfriendly default export.
type IgnoreFactory = () => { add(p: string[]): { ignores(p: string): boolean } };
const ignore: IgnoreFactory = ((dockerignore as unknown as { default: IgnoreFactory }).default ?? dockerignore) as IgnoreFactory;

/** Which paths of a source folder go into the image, by its .dockerignore (Docker's own semantics). */
export interface ContextFilter {
  /** True when the path (relative, '/'-separated) is kept. */
  keeps(rel: string): boolean;
  /** Ignored folders can be skipped without walking them only when no `!` rule could re-include a child. */
  canPrune: boolean;
  patterns: string[];
}

export async function loadDockerignore(dir: string): Promise<ContextFilter> {
  let text = '';
  try {
    text = await readFile(path.join(dir, '.dockerignore'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
  }
  const patterns = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const ig = ignore().add(patterns);
  return {
    keeps: (rel) => !ig.ignores(rel),
    canPrune: !patterns.some((p) => p.startsWith('!')),
    patterns,
  };
}
