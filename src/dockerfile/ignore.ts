import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as dockerignore from '@balena/dockerignore';
import { asLayerwiseError } from '../errors.js';

type IgnoreFactory = () => { add(p: string[]): { ignores(p: string): boolean } };
// A CommonJS module whose function is both module.exports and .default; take it either way.
const ignore: IgnoreFactory = ((dockerignore as unknown as { default: IgnoreFactory }).default ?? dockerignore) as IgnoreFactory;

/** Docker's .dockerignore matching (@balena/dockerignore): returns true for paths that are ignored. */
export function ignoreMatcher(patterns: string[]): (rel: string) => boolean {
  const ig = ignore().add(patterns);
  return (rel) => ig.ignores(rel);
}

/**
 * Reads the ignore patterns that apply to a build context, and from where: `<Dockerfile>.dockerignore`
 * beside the Dockerfile wins over the context's .dockerignore (BuildKit's rule).
 */
export async function readIgnoreFile(root: string, dockerfile?: string): Promise<{ file: string | undefined; patterns: string[] }> {
  const candidates: { file: string; show: string }[] = [];
  if (dockerfile) candidates.push({ file: dockerfile + '.dockerignore', show: path.relative(root, dockerfile + '.dockerignore') || path.basename(dockerfile) + '.dockerignore' });
  candidates.push({ file: path.join(root, '.dockerignore'), show: '.dockerignore' });
  for (const c of candidates) {
    let text: string;
    try {
      text = await readFile(c.file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw asLayerwiseError(err, c.file);
    }
    const patterns = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    return { file: c.show, patterns };
  }
  return { file: undefined, patterns: [] };
}
