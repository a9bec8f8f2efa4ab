/** Which files `layerwise lint PATH` lints: a file as given, or the Dockerfiles directly inside a folder. */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { asLayerwiseError, LayerwiseError } from '../errors.js';

const DOCKERFILE_NAME = /^(Dockerfile|Containerfile)(\.[^.]+.*)?$|\.(Dockerfile|dockerfile|Containerfile)$/;

export function isDockerfileName(name: string): boolean {
  return DOCKERFILE_NAME.test(name) && !name.endsWith('.dockerignore');
}

export async function findDockerfiles(target: string): Promise<string[]> {
  let st;
  try {
    st = await stat(target);
  } catch (err) {
    throw asLayerwiseError(err, target);
  }
  if (!st.isDirectory()) return [target];
  const names = (await readdir(target, { withFileTypes: true })).filter((e) => e.isFile() && isDockerfileName(e.name)).map((e) => e.name).sort();
  if (!names.length) throw new LayerwiseError('USAGE', `${target}: no Dockerfile in this folder (looked for Dockerfile, Containerfile, Dockerfile.*, *.Dockerfile)`, { subject: target });
  return names.map((n) => path.join(target, n));
}
