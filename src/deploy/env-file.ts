import { readFile } from 'node:fs/promises';
import { LayerwiseError, asLayerwiseError } from '../errors.js';
import { writeAtomically } from '../stream/atomic.js';
import { writeFile } from 'node:fs/promises';

/**
 * .env files as docker compose reads them: KEY=VALUE per line, `export ` allowed, # comments, values in
 * single quotes taken literally, in double quotes with \n \t \" \\ escapes, unquoted values ending at an
 * inline " #" comment.
 */
export function parseEnvFile(text: string, where = '.env'): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new LayerwiseError('COMPOSE_INVALID', `${where}:${i + 1}: not a KEY=VALUE line: ${JSON.stringify(raw.slice(0, 80))}`);
    const key = m[1]!;
    let value = m[2]!;
    if (value.startsWith("'")) {
      const end = value.indexOf("'", 1);
      if (end < 0) throw new LayerwiseError('COMPOSE_INVALID', `${where}:${i + 1}: unterminated single quote`);
      value = value.slice(1, end);
    } else if (value.startsWith('"')) {
      let j = 1;
      let v = '';
      for (; j < value.length && value[j] !== '"'; j++) {
        if (value[j] === '\\' && j + 1 < value.length) {
          const c = value[++j]!;
          v += c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c;
        } else v += value[j];
      }
      if (j >= value.length) throw new LayerwiseError('COMPOSE_INVALID', `${where}:${i + 1}: unterminated double quote`);
      value = v;
    } else {
      const hash = value.search(/\s#/);
      if (hash >= 0) value = value.slice(0, hash);
      value = value.trim();
    }
    out[key] = value;
  });
  return out;
}

export async function readEnvFile(file: string): Promise<Record<string, string>> {
  try {
    return parseEnvFile(await readFile(file, 'utf8'), file);
  } catch (err) {
    throw asLayerwiseError(err, file);
  }
}

/**
 * Sets variables in an .env file's text, keeping every other line (comments, order, unrelated keys) as it
 * was; keys not present are appended.
 */
export function updateEnvText(text: string, values: Record<string, string>): string {
  const lines = text.split('\n');
  const done = new Set<string>();
  const quote = (v: string) => (/^[A-Za-z0-9_./:@+-]*$/.test(v) ? v : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  const out = lines.map((raw) => {
    const m = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_.-]*)(\s*=\s*)/.exec(raw);
    if (!m || !(m[2]! in values)) return raw;
    done.add(m[2]!);
    return `${m[1]}${m[2]}${m[3]}${quote(values[m[2]!]!)}`;
  });
  const missing = Object.keys(values).filter((k) => !done.has(k));
  if (missing.length) {
    if (out.length && out[out.length - 1] === '') out.pop();
    for (const k of missing) out.push(`${k}=${quote(values[k]!)}`);
    out.push('');
  }
  return out.join('\n');
}

/** Updates an .env file in place, atomically. */
export async function updateEnvFile(file: string, values: Record<string, string>): Promise<void> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw asLayerwiseError(err, file);
  }
  const next = updateEnvText(text, values);
  await writeAtomically(file, (tmp) => writeFile(tmp, next), { overwrite: true });
}
