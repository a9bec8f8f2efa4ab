/**
 * Finds the Dockerfiles to plan: files given directly, and in folders every `Dockerfile`,
 * `*.Dockerfile` and `Dockerfile.*` (not `*.dockerignore`), a few levels down, skipping
 * node_modules, VCS and hidden folders. Each one's build context is its own folder; its service
 * name is the folder's name (or the file's suffix), made unique with the parent folder when needed.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { LayerwiseError, asLayerwiseError } from '../errors.js';
import type { DockerfileInput } from './plan.js';

const MAX_DEPTH = 4;
const SKIP = new Set(['node_modules', 'vendor', '__pycache__']);

export function isDockerfileName(name: string): boolean {
  if (/\.dockerignore$/i.test(name)) return false;
  return /^dockerfile$/i.test(name) || /\.dockerfile$/i.test(name) || /^dockerfile\.[^.]+$/i.test(name);
}

async function walk(dir: string, depth: number, out: string[]): Promise<void> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    throw asLayerwiseError(err, dir);
  }
  for (const n of names) {
    const p = path.join(dir, n);
    const st = await stat(p).catch(() => undefined);
    if (!st) continue;
    if (st.isFile() && isDockerfileName(n)) out.push(p);
    else if (st.isDirectory() && depth < MAX_DEPTH && !n.startsWith('.') && !SKIP.has(n)) await walk(p, depth + 1, out);
  }
}

function nameFor(file: string): string {
  const base = path.basename(file);
  const m = /^(.+)\.dockerfile$/i.exec(base) ?? /^dockerfile\.(.+)$/i.exec(base);
  return (m ? m[1]! : path.basename(path.dirname(path.resolve(file)))).toLowerCase();
}

/** The Dockerfiles named by the command line, in a stable order (as given, folders sorted). */
export async function findDockerfiles(args: readonly string[]): Promise<DockerfileInput[]> {
  const files: string[] = [];
  for (const a of args) {
    const st = await stat(a).catch((err: unknown) => {
      throw asLayerwiseError(err, a);
    });
    if (st.isDirectory()) {
      const found: string[] = [];
      await walk(a, 0, found);
      if (!found.length) throw new LayerwiseError('PLAN_INPUT_INVALID', `${a}: no Dockerfile in this folder or the ${MAX_DEPTH} levels below`, { subject: a });
      files.push(...found);
    } else files.push(a);
  }
  const unique = [...new Set(files.map((f) => path.resolve(f)))];
  const names = unique.map(nameFor);
  // Two services with the same folder name: prefix each with its parent folder.
  const clash = (n: string) => names.filter((x) => x === n).length > 1;
  const final = unique.map((f, i) => (clash(names[i]!) ? `${path.basename(path.dirname(path.dirname(f)))}-${names[i]}` : names[i]!));
  const inputs: DockerfileInput[] = [];
  for (let i = 0; i < unique.length; i++) {
    const f = unique[i]!;
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch (err) {
      throw asLayerwiseError(err, f);
    }
    inputs.push({ name: final[i]!, path: path.relative(process.cwd(), f) || f, text, context: path.relative(process.cwd(), path.dirname(f)) || '.' });
  }
  return inputs;
}
