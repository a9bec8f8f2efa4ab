import { LayerwiseError } from '../errors.js';

/**
 * Compose variable interpolation: $VAR, ${VAR}, ${VAR:-default} (unset or empty), ${VAR-default} (unset),
 * ${VAR:?error} / ${VAR?error}, ${VAR:+alt} / ${VAR+alt}, defaults may nest (${A:-${B}}), and $$ is a
 * literal $. Unlike compose, an unset variable without a default is an error: an image name that silently
 * loses its tag would deploy the wrong release.
 */
export function interpolate(text: string, env: Record<string, string | undefined>, where: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = matchBrace(text, i + 1, where);
      out += expand(text.slice(i + 2, end), env, where);
      i = end + 1;
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
    if (!m) {
      out += '$';
      i++;
      continue;
    }
    out += lookup(m[0], env, where);
    i += 1 + m[0].length;
  }
  return out;
}

function matchBrace(text: string, open: number, where: string): number {
  let depth = 0;
  for (let j = open; j < text.length; j++) {
    if (text[j] === '{') depth++;
    else if (text[j] === '}' && --depth === 0) return j;
  }
  throw new LayerwiseError('COMPOSE_INVALID', `${where}: unterminated \${ in ${JSON.stringify(text)}`);
}

function lookup(name: string, env: Record<string, string | undefined>, where: string): string {
  const v = env[name];
  if (v === undefined) throw new LayerwiseError('COMPOSE_VARIABLE_MISSING', `${where}: variable ${name} is not set and has no default`);
  return v;
}

function expand(body: string, env: Record<string, string | undefined>, where: string): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([\s\S]*))?$/.exec(body);
  if (!m) throw new LayerwiseError('COMPOSE_INVALID', `${where}: invalid substitution \${${body}}`);
  const [, name, colon, op, arg] = m as unknown as [string, string, string | undefined, string | undefined, string | undefined];
  const v = env[name];
  const unset = colon ? v === undefined || v === '' : v === undefined;
  if (!op) return lookup(name, env, where);
  const rest = interpolate(arg ?? '', env, where);
  if (op === '-') return unset ? rest : v!;
  if (op === '+') return unset ? '' : rest;
  if (unset) throw new LayerwiseError('COMPOSE_VARIABLE_MISSING', `${where}: ${name} is required: ${rest || 'not set'}`);
  return v!;
}
