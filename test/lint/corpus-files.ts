/** The lint corpus on disk, and temporary copies of its entries with their generated context files. */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const corpusRoot = new URL('./corpus/', import.meta.url).pathname;
export const corpusNames = readdirSync(corpusRoot).sort();
const temps: string[] = [];

export function cleanupCorpus(): void {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A temporary copy of a corpus entry with the files its context.json lists generated. */
export function materialise(name: string): string {
  const dir = mkdtempSync('/tmp/lw-corpus-');
  temps.push(dir);
  cpSync(path.join(corpusRoot, name), dir, { recursive: true });
  const spec = path.join(dir, 'context.json');
  if (existsSync(spec)) {
    const gen = (JSON.parse(readFileSync(spec, 'utf8')) as { generate?: Record<string, string | number> }).generate ?? {};
    for (const [rel, content] of Object.entries(gen)) {
      const p = path.join(dir, rel);
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, typeof content === 'number' ? Buffer.alloc(content, 7) : content);
    }
  }
  return dir;
}
