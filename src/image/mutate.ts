import type { ContainerConfig, HistoryEntry, ImageConfig } from '../model/config.js';
import type { Image, Layer } from '../model/image.js';
import { manifestFamily } from '../model/media-types.js';
import { assembleImage } from './memory.js';

export interface Addition {
  layer: Layer;
  history?: HistoryEntry;
}

export interface ConfigChanges {
  env?: Record<string, string>;
  workdir?: string;
  cmd?: string[];
  entrypoint?: string[];
  labels?: Record<string, string>;
  user?: string;
  /** RFC 3339 time for `created` and the new history entries. */
  created?: string;
  /** History entries for config-only steps (ENV, CMD...), recorded as empty layers. */
  emptyHistory?: HistoryEntry[];
}

function applyEnv(env: string[] | undefined, set: Record<string, string>): string[] {
  const out = [...(env ?? [])];
  for (const [k, v] of Object.entries(set)) {
    const i = out.findIndex((e) => e.startsWith(`${k}=`));
    if (i >= 0) out[i] = `${k}=${v}`;
    else out.push(`${k}=${v}`);
  }
  return out;
}

/**
 * A new image: `base` plus layers on top and config changes, like go-containerregistry's
 * mutate.Append. Nothing is modified in place; base layers are shared, not copied.
 */
export function appendLayers(base: Image, additions: Addition[], changes: ConfigChanges = {}): Image {
  const old = base.config;
  const cc: ContainerConfig = { ...(old.config ?? {}) };
  if (changes.env) cc.Env = applyEnv(cc.Env, changes.env);
  if (changes.workdir !== undefined) cc.WorkingDir = changes.workdir;
  if (changes.entrypoint !== undefined) {
    cc.Entrypoint = changes.entrypoint;
    // Docker resets CMD when ENTRYPOINT changes and no CMD is given.
    if (changes.cmd === undefined) cc.Cmd = null;
  }
  if (changes.cmd !== undefined) cc.Cmd = changes.cmd;
  if (changes.labels) cc.Labels = { ...(cc.Labels ?? {}), ...changes.labels };
  if (changes.user !== undefined) cc.User = changes.user;
  const created = changes.created ?? old.created;
  const history: HistoryEntry[] = [...(old.history ?? [])];
  for (const h of changes.emptyHistory ?? []) history.push({ ...(created ? { created } : {}), ...h, empty_layer: true });
  for (const a of additions) history.push({ ...(created ? { created } : {}), ...(a.history ?? { created_by: 'layerwise' }) });
  const { rootfs: _r, history: _h, config: _c, created: _cr, ...rest } = old;
  const config: Omit<ImageConfig, 'rootfs'> = {
    ...rest,
    ...(created ? { created } : {}),
    config: cc,
    history,
  } as Omit<ImageConfig, 'rootfs'>;
  return assembleImage({
    layers: [...base.layers, ...additions.map((a) => a.layer)],
    config,
    family: manifestFamily(base.mediaType),
    reference: `${base.reference}+${additions.length}`,
  });
}
