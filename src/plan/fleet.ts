/**
 * The deployment a plan is judged against, from a small YAML file:
 *
 *   period: week                 # what the change rates count per (a name only)
 *   hosts:
 *     - name: web                # a group of identical hosts
 *       count: 3                 # default 1
 *       services: [api, frontend]
 *   images:                      # the FROM images: size and releases per period
 *     python:3.12-slim: { size: 50MB, changes: 1 }
 *   steps:                       # Dockerfile steps: first rule that matches wins
 *     - match: "pip install"     # a piece of the instruction text (whitespace collapsed)
 *       service: api             # optional: only this service's steps
 *       size: 80MB               # optional: an estimate, used when no image gives the real size
 *       changes: 2               # releases per period
 *   default: { changes: 0 }      # for steps no rule matches
 *
 * And the arithmetic (docs/plan.md has it in full): an image is a chain of layers; a layer is rebuilt
 * whenever it or any layer below it changes, so per period it gets versions(L) = the sum of the change
 * rates of L and every layer below it. A host pulls each distinct layer once (layers are identified by
 * their chain: same content on the same parents), and a registry stores each distinct layer once.
 *   cold pull      = sum over hosts of count x sum of size(L) over the distinct layers of its services
 *   pull per period = sum over hosts of count x sum of versions(L) x size(L) over the same layers
 *   registry       = sum of size(L) over the distinct layers of every image pushed
 *   registry growth per period = sum of versions(L) x size(L) over the same layers
 */
import { parse as parseYaml } from 'yaml';
import { LayerwiseError } from '../errors.js';
import { normalizeImageName } from '../transports/reference.js';

export interface FleetRule {
  match: string;
  service: string | undefined;
  size: number | undefined;
  changes: number | undefined;
}

export interface Fleet {
  period: string;
  hosts: { name: string; count: number; services: string[] }[];
  /** By normalised image name. */
  images: Map<string, { size: number | undefined; changes: number | undefined }>;
  steps: FleetRule[];
  defaultChanges: number;
  defaultSize: number | undefined;
}

const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4, k: 1e3, m: 1e6, g: 1e9 };

/** A size: a number of bytes, or text like "45MB", "1.5 GiB" (KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024). */
export function parseSize(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.round(v);
  if (typeof v === 'string') {
    const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
    const unit = m ? UNITS[(m[2] || 'b').toLowerCase()] : undefined;
    if (m && unit !== undefined) return Math.round(Number(m[1]) * unit);
  }
  throw new LayerwiseError('FLEET_INVALID', `${where}: ${JSON.stringify(v)} is not a size (use bytes or a number with B, KB, MB, GB, KiB, MiB, GiB)`);
}

function rate(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  throw new LayerwiseError('FLEET_INVALID', `${where}: ${JSON.stringify(v)} is not a change rate (a number of releases per period, 0 or more)`);
}

function object(v: unknown, where: string): Record<string, unknown> {
  if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  throw new LayerwiseError('FLEET_INVALID', `${where}: expected a mapping`);
}

function onlyKeys(o: Record<string, unknown>, keys: string[], where: string): void {
  const extra = Object.keys(o).filter((k) => !keys.includes(k));
  if (extra.length) throw new LayerwiseError('FLEET_INVALID', `${where}: unknown key ${extra.map((k) => JSON.stringify(k)).join(', ')} (known: ${keys.join(', ')})`);
}

/** Parses and checks a fleet file; `file` names it in messages. */
export function parseFleet(text: string, file = 'fleet file'): Fleet {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new LayerwiseError('FLEET_INVALID', `${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`, { subject: file });
  }
  const top = object(doc, file);
  onlyKeys(top, ['period', 'hosts', 'images', 'steps', 'default'], file);
  const period = top.period === undefined ? 'period' : String(top.period);
  if (!Array.isArray(top.hosts) || top.hosts.length === 0) throw new LayerwiseError('FLEET_INVALID', `${file}: hosts: expected a list of host groups`, { subject: file });
  const seen = new Set<string>();
  const hosts = top.hosts.map((h, i) => {
    const where = `${file}: hosts[${i}]`;
    const o = object(h, where);
    onlyKeys(o, ['name', 'count', 'services'], where);
    const name = o.name === undefined ? `hosts[${i}]` : String(o.name);
    if (seen.has(name)) throw new LayerwiseError('FLEET_INVALID', `${where}: host group ${name} is listed twice`, { subject: file });
    seen.add(name);
    const count = o.count === undefined ? 1 : o.count;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) throw new LayerwiseError('FLEET_INVALID', `${where}: count must be a whole number of hosts, 1 or more`, { subject: file });
    if (!Array.isArray(o.services) || !o.services.length || !o.services.every((s) => typeof s === 'string')) {
      throw new LayerwiseError('FLEET_INVALID', `${where}: services must be a list of service names`, { subject: file });
    }
    return { name, count, services: [...new Set(o.services as string[])] };
  });
  const images = new Map<string, { size: number | undefined; changes: number | undefined }>();
  if (top.images !== undefined) {
    for (const [name, v] of Object.entries(object(top.images, `${file}: images`))) {
      const where = `${file}: images.${name}`;
      const o = object(v, where);
      onlyKeys(o, ['size', 'changes'], where);
      images.set(normalizeImageName(name), { size: o.size === undefined ? undefined : parseSize(o.size, `${where}.size`), changes: o.changes === undefined ? undefined : rate(o.changes, `${where}.changes`) });
    }
  }
  const steps: FleetRule[] = [];
  if (top.steps !== undefined) {
    if (!Array.isArray(top.steps)) throw new LayerwiseError('FLEET_INVALID', `${file}: steps: expected a list of rules`, { subject: file });
    top.steps.forEach((r, i) => {
      const where = `${file}: steps[${i}]`;
      const o = object(r, where);
      onlyKeys(o, ['match', 'service', 'size', 'changes'], where);
      if (typeof o.match !== 'string' || !o.match.trim()) throw new LayerwiseError('FLEET_INVALID', `${where}: match must be a piece of instruction text`, { subject: file });
      steps.push({
        match: o.match.replace(/\s+/g, ' ').trim(),
        service: o.service === undefined ? undefined : String(o.service),
        size: o.size === undefined ? undefined : parseSize(o.size, `${where}.size`),
        changes: o.changes === undefined ? undefined : rate(o.changes, `${where}.changes`),
      });
    });
  }
  let defaultChanges = 0;
  let defaultSize: number | undefined;
  if (top.default !== undefined) {
    const o = object(top.default, `${file}: default`);
    onlyKeys(o, ['size', 'changes'], `${file}: default`);
    if (o.changes !== undefined) defaultChanges = rate(o.changes, `${file}: default.changes`);
    if (o.size !== undefined) defaultSize = parseSize(o.size, `${file}: default.size`);
  }
  return { period, hosts, images, steps, defaultChanges, defaultSize };
}

/** Where a layer's size comes from. */
export type SizeSource = 'measured' | 'estimated' | 'computed' | 'unknown';

/** One layer of the model: `id` is its identity (equal ids are one layer, stored and pulled once). */
export interface FleetLayer {
  id: string;
  label: string;
  size: number;
  sizeSource: SizeSource;
  /** Releases per period of this layer's own step. */
  changes: number;
}

/** An image as a chain of layers, bottom first. */
export interface FleetImage {
  name: string;
  layers: FleetLayer[];
}

export interface FleetFigures {
  /** Bytes all hosts pull to start from nothing. */
  coldPull: number;
  /** Bytes all hosts pull per period to stay current. */
  periodPull: number;
  /** Bytes the registry holds for the current images. */
  registry: number;
  /** Bytes the registry gains per period. */
  registryPerPeriod: number;
  hosts: { name: string; count: number; coldPull: number; periodPull: number }[];
  /** Distinct layers in the registry. */
  layers: number;
  /** Every figure only counts measured and computed sizes. */
  exact: boolean;
}

/**
 * The figures for a set of images. `services` maps service names to their image; `registryOnly` are
 * images pushed but run by no host (base images), counted in the registry only.
 */
export function fleetFigures(fleet: Fleet, services: ReadonlyMap<string, FleetImage>, registryOnly: readonly FleetImage[] = []): FleetFigures {
  const versions = new Map<string, number>();
  const sizes = new Map<string, FleetLayer>();
  const visit = (img: FleetImage) => {
    let below = 0;
    for (const l of img.layers) {
      below += l.changes;
      // One layer in two images has the same layers below it; only per-service rates can differ: take the highest.
      versions.set(l.id, Math.max(below, versions.get(l.id) ?? 0));
      sizes.set(l.id, l);
    }
  };
  for (const img of services.values()) visit(img);
  for (const img of registryOnly) visit(img);
  const sum = (ids: Iterable<string>, weighted: boolean) => {
    let t = 0;
    for (const id of ids) t += sizes.get(id)!.size * (weighted ? versions.get(id)! : 1);
    return t;
  };
  const hosts = fleet.hosts.map((h) => {
    const ids = new Set<string>();
    for (const s of h.services) for (const l of services.get(s)?.layers ?? []) ids.add(l.id);
    return { name: h.name, count: h.count, coldPull: h.count * sum(ids, false), periodPull: h.count * sum(ids, true) };
  });
  const all = new Set<string>();
  for (const img of [...services.values(), ...registryOnly]) for (const l of img.layers) all.add(l.id);
  return {
    coldPull: hosts.reduce((a, h) => a + h.coldPull, 0),
    periodPull: hosts.reduce((a, h) => a + h.periodPull, 0),
    registry: sum(all, false),
    registryPerPeriod: sum(all, true),
    hosts,
    layers: all.size,
    exact: [...all].every((id) => sizes.get(id)!.sizeSource === 'measured' || sizes.get(id)!.sizeSource === 'computed'),
  };
}

/**
 * The first rule that matches a step for a service: its text as written (continuations joined,
 * whitespace collapsed) or its canonical key (so `apt-get -y install` matches "apt-get install").
 */
export function matchRule(fleet: Fleet, service: string, text: string, key?: string): FleetRule | undefined {
  const t = text.replace(/\\\r?\n/g, ' ').replace(/\s+/g, ' ').trim();
  return fleet.steps.find((r) => (r.service === undefined || r.service === service) && (t.includes(r.match) || (key !== undefined && key.includes(r.match))));
}
