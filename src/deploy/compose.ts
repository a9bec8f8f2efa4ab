import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { LayerwiseError, asLayerwiseError, isLayerwiseError } from '../errors.js';
import { interpolate } from './interpolate.js';
import { parseDockerName } from '../transports/reference.js';

export interface ComposeService {
  name: string;
  /** The image as written, before interpolation. */
  template: string;
}

export interface ResolvedService {
  service: string;
  image: string;
}

/** Reads the services of a compose file; only their `image:` matters for a release bundle. */
export async function loadCompose(file: string): Promise<ComposeService[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw asLayerwiseError(err, file);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new LayerwiseError('COMPOSE_INVALID', `${file}: not valid YAML (${(err as Error).message.split('\n')[0]})`, { subject: file });
  }
  const services = (doc as { services?: unknown } | null)?.services;
  if (!services || typeof services !== 'object' || Array.isArray(services)) {
    throw new LayerwiseError('COMPOSE_INVALID', `${file}: no services: section`, { subject: file });
  }
  const out: ComposeService[] = [];
  for (const [name, def] of Object.entries(services as Record<string, unknown>)) {
    if (!def || typeof def !== 'object') throw new LayerwiseError('COMPOSE_INVALID', `${file}: service ${name} is not a mapping`, { subject: file });
    const image = (def as { image?: unknown }).image;
    if (image === undefined) {
      throw new LayerwiseError('COMPOSE_INVALID', `${file}: service ${name} has no image: (a bundle ships images; give it image: NAME:\${TAG})`, { subject: file });
    }
    if (typeof image !== 'string') throw new LayerwiseError('COMPOSE_INVALID', `${file}: service ${name}: image must be a string`, { subject: file });
    out.push({ name, template: image });
  }
  if (out.length === 0) throw new LayerwiseError('COMPOSE_INVALID', `${file}: services: is empty`, { subject: file });
  return out;
}

/** Resolves every service's image for one set of variables, naming the service in any error. */
export function resolveServices(services: ComposeService[], env: Record<string, string | undefined>, where: string): ResolvedService[] {
  return services.map((s) => {
    try {
      const image = interpolate(s.template, env, `${where}: service ${s.name} (image: ${s.template})`);
      parseDockerName(image, `${where}: service ${s.name}`);
      return { service: s.name, image };
    } catch (err) {
      if (isLayerwiseError(err) && (err.code === 'COMPOSE_VARIABLE_MISSING' || err.code === 'COMPOSE_INVALID')) throw err;
      if (isLayerwiseError(err)) throw new LayerwiseError('COMPOSE_INVALID', `${where}: service ${s.name}: image ${JSON.stringify(s.template)} does not resolve to a valid name (${err.message})`);
      throw err;
    }
  });
}

/** The variables whose values differ between two env sets, with the new values (for `bundle apply --env-file`). */
export function changedVariables(before: Record<string, string>, after: Record<string, string>, services: ComposeService[]): Record<string, string> {
  const used = new Set<string>();
  for (const s of services) for (const m of s.template.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) used.add(m[1]!);
  const out: Record<string, string> = {};
  for (const k of used) if (after[k] !== undefined && after[k] !== before[k]) out[k] = after[k]!;
  return out;
}
