import { LayerwiseError } from '../errors.js';
import { parseDigest, type Digest } from './digest.js';
import { parseJsonBytes } from './json.js';

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  [key: string]: unknown;
}

/** The image config (OCI image config / Docker image JSON). Unknown fields are kept. */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: HistoryEntry[];
  [key: string]: unknown;
}

export function parseImageConfig(bytes: Uint8Array, where: string): ImageConfig {
  const v = parseJsonBytes(bytes, where, 'CONFIG_INVALID') as Record<string, unknown> | null;
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    throw new LayerwiseError('CONFIG_INVALID', `${where}: image config is not a JSON object`, { subject: where });
  }
  const rootfs = v.rootfs as Record<string, unknown> | undefined;
  if (!rootfs || typeof rootfs !== 'object' || !Array.isArray(rootfs.diff_ids)) {
    throw new LayerwiseError('CONFIG_INVALID', `${where}: image config has no rootfs.diff_ids`, { subject: where });
  }
  const diffIds = rootfs.diff_ids.map((d, i) => parseDigest(d, `${where}: rootfs.diff_ids[${i}]`));
  if (v.history !== undefined && !Array.isArray(v.history)) {
    throw new LayerwiseError('CONFIG_INVALID', `${where}: history must be an array`, { subject: where });
  }
  checkConfigTypes(v, where);
  return {
    ...v,
    architecture: typeof v.architecture === 'string' ? v.architecture : '',
    os: typeof v.os === 'string' ? v.os : '',
    rootfs: { type: 'layers', diff_ids: diffIds },
  } as ImageConfig;
}

/**
 * The fields layerwise reads (inspect, build, analyze) must have the types the spec gives them; a
 * hostile config with "Env": 5 or a history entry that is a number would otherwise crash a reader.
 * null is accepted where Docker writes it.
 */
function checkConfigTypes(v: Record<string, unknown>, where: string): void {
  const bad = (what: string): never => {
    throw new LayerwiseError('CONFIG_INVALID', `${where}: ${what}`, { subject: where });
  };
  const isObject = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);
  const strings = (x: unknown) => Array.isArray(x) && x.every((s) => typeof s === 'string');
  const optional = (x: unknown, ok: (y: unknown) => boolean) => x === undefined || x === null || ok(x);
  for (const k of ['created', 'author', 'variant', 'os.version'] as const) if (v[k] !== undefined && typeof v[k] !== 'string') bad(`${k} must be a string`);
  if (v.config !== undefined && v.config !== null) {
    if (!isObject(v.config)) bad('config must be an object');
    const c = v.config as Record<string, unknown>;
    for (const k of ['Env', 'Cmd', 'Entrypoint', 'Shell', 'OnBuild'] as const) if (!optional(c[k], strings)) bad(`config.${k} must be a list of strings`);
    for (const k of ['User', 'WorkingDir', 'StopSignal'] as const) if (!optional(c[k], (x) => typeof x === 'string')) bad(`config.${k} must be a string`);
    if (!optional(c.Labels, (x) => isObject(x) && Object.values(x).every((s) => typeof s === 'string'))) bad('config.Labels must be an object of strings');
    for (const k of ['ExposedPorts', 'Volumes'] as const) if (!optional(c[k], isObject)) bad(`config.${k} must be an object`);
  }
  for (const entry of (v.history ?? []) as unknown[]) {
    if (!isObject(entry)) bad('history entries must be objects');
    const h = entry as Record<string, unknown>;
    for (const k of ['created', 'created_by', 'author', 'comment'] as const) if (h[k] !== undefined && typeof h[k] !== 'string') bad(`history ${k} must be a string`);
    if (h.empty_layer !== undefined && typeof h.empty_layer !== 'boolean') bad('history empty_layer must be a boolean');
  }
}

/**
 * Pairs each layer with the history entry that made it (entries with empty_layer make no layer).
 * Returns one entry per layer, undefined where the history is shorter than the layer list.
 */
export function historyForLayers(config: ImageConfig): (HistoryEntry | undefined)[] {
  const out: (HistoryEntry | undefined)[] = [];
  for (const h of config.history ?? []) {
    if (!h.empty_layer) out.push(h);
  }
  const n = config.rootfs.diff_ids.length;
  if (out.length > n) return out.slice(out.length - n);
  while (out.length < n) out.push(undefined);
  return out;
}

/** Shortens a history `created_by` the way `docker history` shows it. */
export function describeStep(h: HistoryEntry | undefined): string {
  if (!h?.created_by) return h?.comment ?? '(no history)';
  let s = h.created_by.trim();
  s = s.replace(/^\/bin\/sh -c #\(nop\)\s*/, '');
  s = s.replace(/^\/bin\/sh -c /, 'RUN ');
  s = s.replace(/^\|\d+ .*? \/bin\/sh -c /, 'RUN ');
  return s.replace(/\s+/g, ' ');
}
