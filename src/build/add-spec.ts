import { LayerwiseError } from '../errors.js';

export interface AddSpec {
  /** A folder or file on this machine. */
  source: string;
  /** Absolute destination path in the image. */
  dest: string;
}

/** `--add ./backend:/backend_app`: the last ':' followed by '/' separates source and destination. */
export function parseAddSpec(text: string): AddSpec {
  const i = text.lastIndexOf(':/');
  if (i <= 0) throw new LayerwiseError('USAGE', `--add ${text}: write SOURCE:/destination (destination absolute, e.g. ./backend:/backend_app)`);
  const source = text.slice(0, i);
  const dest = text.slice(i + 1).replace(/\/+$/, '') || '/';
  if (dest.split('/').includes('..')) throw new LayerwiseError('USAGE', `--add ${text}: destination must not contain ..`);
  return { source, dest };
}
