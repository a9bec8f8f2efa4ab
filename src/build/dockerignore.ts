import { ignoreMatcher, readIgnoreFile } from '../dockerfile/ignore.js';

/** Which paths of a source folder go into the image, by its .dockerignore (Docker's own semantics). */
export interface ContextFilter {
  /** True when the path (relative, '/'-separated) is kept. */
  keeps(rel: string): boolean;
  /** Ignored folders can be skipped without walking them only when no `!` rule could re-include a child. */
  canPrune: boolean;
  patterns: string[];
}

export async function loadDockerignore(dir: string): Promise<ContextFilter> {
  const { patterns } = await readIgnoreFile(dir);
  const ignored = ignoreMatcher(patterns);
  return { keeps: (rel) => !ignored(rel), canPrune: !patterns.some((p) => p.startsWith('!')), patterns };
}
