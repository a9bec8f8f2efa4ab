/**
 * Savings of a plan, computed for a fleet: the same fleet figures (fleet.ts) for the images as the
 * Dockerfiles build them today ("before") and as the plan builds them ("after").
 *
 * Before: each service's image is its final stage's chain: the FROM image, then its own layer steps in
 * the Dockerfile's order. Services build separately, so their layers are their own, even where two
 * Dockerfiles have the same steps (identical content in a different layer is a different layer); only
 * the FROM image is shared. When the built images are given, layers are identified by their real
 * chainIDs instead, so sharing that exists today is counted.
 * After: the FROM image, then the base images' steps (one layer for every service on that base), then
 * the service's remaining steps, in the reordered order. The base images are pushed too, so the
 * registry figures count every base.
 *
 * Sizes: the built image's layer when given (measured), else the fleet file's rule (estimated), else the
 * size of the files a planner-made COPY copies (estimated from the build context), else unknown (0, and
 * said so). Change rates: the fleet file's rule for the step, else its default.
 */
import { LayerwiseError } from '../errors.js';
import { fleetFigures, matchRule, type Fleet, type FleetFigures, type FleetImage, type FleetLayer, type SizeSource } from './fleet.js';
import type { ImageSummary } from './images.js';
import type { Plan, ServicePlan, StagePlan, Step } from './model.js';
import type { StageMeasurement } from './sizes.js';
import { oneLine } from './normalize.js';

export interface SavingsReport {
  period: string;
  before: FleetFigures;
  after: FleetFigures;
  /** before - after. */
  saved: { coldPull: number; periodPull: number; registry: number; registryPerPeriod: number };
  /** The layer chains each side was computed from, bottom first. */
  images: { side: 'before' | 'after'; name: string; layers: (FleetLayer & { versions: number })[] }[];
  notes: string[];
}

const figureOf = (f: FleetFigures) => ({ coldPull: f.coldPull, periodPull: f.periodPull, registry: f.registry, registryPerPeriod: f.registryPerPeriod });

interface StepFigure {
  size: number;
  source: SizeSource;
  changes: number;
  measuredId: string | undefined;
}

/** Where each step's size and change rate come from, for one plan (see the file comment). */
export function sizeResolver(plan: Plan, fleet: Fleet | undefined, measurements: ReadonlyMap<string, StageMeasurement> = new Map()) {
  const byName = new Map(plan.services.map((s) => [s.name, s]));
  const unknown = new Set<string>();
  const measuredStage = (service: string, stage: number) => {
    const m = measurements.get(service);
    const sp = byName.get(service);
    return m && sp && !m.problem && stage === sp.finalStage ? m : undefined;
  };
  const step = (service: string, stage: number, s: Step): StepFigure => {
    const rule = fleet && matchRule(fleet, service, s.text, s.key);
    const changes = rule?.changes ?? fleet?.defaultChanges ?? 0;
    const m = measuredStage(service, stage);
    const layer = m && s.origin !== undefined ? m.steps.get(s.origin) : undefined;
    if (layer !== undefined) return { size: layer?.size ?? 0, source: 'measured', changes, measuredId: layer?.chainId };
    if (rule?.size !== undefined) return { size: rule.size, source: 'estimated', changes, measuredId: undefined };
    if (s.contextTarSize !== undefined) return { size: s.contextTarSize, source: 'estimated', changes, measuredId: undefined };
    if (fleet?.defaultSize !== undefined) return { size: fleet.defaultSize, source: 'estimated', changes, measuredId: undefined };
    if (s.layer) unknown.add(`${service}: ${oneLine(s.text)}`);
    return { size: 0, source: 'unknown', changes, measuredId: undefined };
  };
  const from = (sp: ServicePlan, stage: StagePlan): FleetLayer => {
    const image = stage.image!;
    const given = fleet?.images.get(image);
    const rule = fleet && matchRule(fleet, sp.name, stage.steps[0]!.text, stage.steps[0]!.key);
    const changes = given?.changes ?? rule?.changes ?? fleet?.defaultChanges ?? 0;
    const layer = { id: `image:${image}`, label: `FROM ${image}`, changes };
    if (given?.size !== undefined) return { ...layer, size: given.size, sizeSource: 'estimated' };
    // Any built image on the same FROM gives its size.
    for (const s of plan.services) {
      const m = measuredStage(s.name, s.finalStage);
      if (m && s.stages[s.finalStage]!.image === image) return { ...layer, size: m.base.size, sizeSource: 'measured' };
    }
    if (rule?.size !== undefined) return { ...layer, size: rule.size, sizeSource: 'estimated' };
    unknown.add(`FROM ${image}`);
    return { ...layer, size: 0, sizeSource: 'unknown' };
  };
  /** A base's own layer steps: measured in any member's image, else estimated, with the highest change rate of its members. */
  const baseStep = (baseId: number, k: number): StepFigure & { rates: number[] } => {
    const b = plan.bases[baseId - 1]!;
    const figures = b.members.map((m) => step(m.service, m.stage, byName.get(m.service)!.stages[m.stage]!.steps[b.start + k]!));
    const best = figures.find((f) => f.source === 'measured') ?? figures.find((f) => f.source === 'estimated') ?? figures[0]!;
    const rates = [...new Set(figures.map((f) => f.changes))];
    return { ...best, changes: Math.max(...rates), rates };
  };
  return { step, from, baseStep, unknown, byName };
}

/**
 * RUN, COPY and ADD make layers; so does any other step the built image shows made one (the classic
 * builder commits a layer for a WORKDIR that creates its folder).
 */
function makesLayer(step: Step, f: StepFigure): boolean {
  return step.layer || f.measuredId !== undefined;
}

const RANK: Record<SizeSource, number> = { measured: 0, computed: 1, estimated: 2, unknown: 3 };

export interface NodeSize {
  size: number;
  /** The least certain of its parts. */
  source: SizeSource;
}

export interface TreeSizes {
  /** The FROM images, by normalised name. */
  images: Record<string, NodeSize>;
  /** Each base's own layers. */
  bases: Record<number, NodeSize>;
  /** Each stage's layers after its base ("service#stage"). */
  stages: Record<string, NodeSize>;
}

/** Sizes for the tree drawing: what each node adds over its parent. */
export function treeSizes(plan: Plan, fleet: Fleet | undefined, measurements: ReadonlyMap<string, StageMeasurement> = new Map()): TreeSizes {
  const r = sizeResolver(plan, fleet, measurements);
  const add = (parts: { size: number; source: SizeSource }[]): NodeSize => {
    if (!parts.length) return { size: 0, source: 'computed' };
    return { size: parts.reduce((a, p) => a + p.size, 0), source: parts.reduce<SizeSource>((w, p) => (RANK[p.source] > RANK[w] ? p.source : w), 'measured') };
  };
  const out: TreeSizes = { images: {}, bases: {}, stages: {} };
  for (const b of plan.bases) out.bases[b.id] = add(b.steps.flatMap((s, k) => { const f = r.baseStep(b.id, k); return makesLayer(s, f) ? [f] : []; }));
  for (const sp of plan.services) {
    for (const st of sp.stages) {
      if (st.image !== undefined && st.image !== 'scratch' && !(st.image in out.images)) {
        const f = r.from(sp, st);
        out.images[st.image] = { size: f.size, source: f.sizeSource };
      }
      out.stages[`${sp.name}#${st.index}`] = add(st.steps.slice(Math.max(st.replaced, 1)).map((s) => [s, r.step(sp.name, st.index, s)] as const).filter(([s, f]) => makesLayer(s, f)).map(([, f]) => f));
    }
  }
  return out;
}

export function computeSavings(plan: Plan, fleet: Fleet, measurements: ReadonlyMap<string, StageMeasurement> = new Map()): SavingsReport {
  const notes: string[] = [];
  const { step: stepFigure, from: fromLayer, baseStep, unknown, byName } = sizeResolver(plan, fleet, measurements);
  const deployed = [...new Set(fleet.hosts.flatMap((h) => h.services))];
  for (const s of deployed) {
    if (!byName.has(s)) throw new LayerwiseError('FLEET_INVALID', `the fleet runs service ${s}, which is not one of the planned services (${[...byName.keys()].join(', ')})`, { subject: s });
  }
  for (const m of measurements.values()) if (m.problem) notes.push(`${m.service}: its image was not used for sizes: ${m.problem}`);

  // Before: each service's own chain, in Dockerfile order.
  const beforeChain = (sp: ServicePlan, stageIndex: number, depth = 0): FleetLayer[] => {
    const stage = sp.stages[stageIndex]!;
    const df = stage.originalSteps;
    let chain: FleetLayer[];
    if (stage.image !== undefined) chain = [fromLayer(sp, stage)];
    else {
      const parent = /^FROM stage [^#]+#(\d+)/.exec(df[0]!.key);
      if (!parent || depth > 20) throw new LayerwiseError('PLAN_INPUT_INVALID', `${sp.path}: stage ${stageIndex} builds on an image the planner cannot resolve`, { subject: sp.path });
      chain = beforeChain(sp, Number(parent[1]), depth + 1);
    }
    for (const step of df.slice(1)) {
      const f = stepFigure(sp.name, stageIndex, step);
      if (!makesLayer(step, f)) continue;
      chain.push({ id: f.measuredId ?? `before:${sp.name}:${stageIndex}:${step.origin}`, label: `${sp.name}: ${oneLine(step.text)}`, size: f.size, sizeSource: f.source, changes: f.changes });
    }
    return chain;
  };

  // After: bases' steps are one layer for all their members.
  const baseLayers = new Map<number, FleetLayer[]>();
  const baseChain = (id: number): FleetLayer[] => {
    const known = baseLayers.get(id);
    if (known) return known;
    const b = plan.bases[id - 1]!;
    let chain: FleetLayer[];
    if (b.parent.kind === 'base') chain = [...baseChain(b.parent.id)];
    else {
      const first = b.members[0]!;
      const sp = byName.get(first.service)!;
      chain = [fromLayer(sp, sp.stages[first.stage]!)];
    }
    b.steps.forEach((step, k) => {
      const f = baseStep(id, k);
      if (!makesLayer(step, f)) return;
      if (f.rates.length > 1) notes.push(`${b.name}: services give "${oneLine(step.text)}" different change rates (${f.rates.join(', ')}); the highest is used`);
      chain.push({ id: `base:${b.id}:${b.start + k}`, label: `${b.name}: ${oneLine(step.text)}`, size: f.size, sizeSource: f.source, changes: f.changes });
    });
    baseLayers.set(id, chain);
    return chain;
  };
  const afterChain = (sp: ServicePlan, stageIndex: number, depth = 0): FleetLayer[] => {
    const stage = sp.stages[stageIndex]!;
    let chain: FleetLayer[];
    if (stage.base !== undefined) chain = [...baseChain(stage.base)];
    else if (stage.image !== undefined) chain = [fromLayer(sp, stage)];
    else {
      const parent = /^FROM stage [^#]+#(\d+)/.exec(stage.steps[0]!.key);
      if (!parent || depth > 20) throw new LayerwiseError('PLAN_INPUT_INVALID', `${sp.path}: stage ${stageIndex} builds on an image the planner cannot resolve`, { subject: sp.path });
      chain = afterChain(sp, Number(parent[1]), depth + 1);
    }
    stage.steps.forEach((step, k) => {
      if (k < Math.max(stage.replaced, 1)) return;
      const f = stepFigure(sp.name, stageIndex, step);
      if (!makesLayer(step, f)) return;
      chain.push({ id: `after:${sp.name}:${stageIndex}:${k}`, label: `${sp.name}: ${oneLine(step.text)}`, size: f.size, sizeSource: f.source, changes: f.changes });
    });
    return chain;
  };

  const before = new Map<string, FleetImage>();
  const after = new Map<string, FleetImage>();
  for (const name of deployed) {
    const sp = byName.get(name)!;
    before.set(name, { name, layers: beforeChain(sp, sp.finalStage) });
    after.set(name, { name, layers: afterChain(sp, sp.finalStage) });
  }
  // The bases the deployed services build on (their build stages' too) are pushed as well.
  const bases: FleetImage[] = plan.bases.filter((b) => b.members.some((m) => deployed.includes(m.service))).map((b) => ({ name: b.name, layers: baseChain(b.id) }));
  const beforeFigures = fleetFigures(fleet, before);
  const afterFigures = fleetFigures(fleet, after, bases);
  if (unknown.size) notes.push(`no size for ${[...unknown].join('; ')}: counted as 0 (give --images or a size in the fleet file)`);
  const estimated = [...before.values(), ...after.values(), ...bases].some((i) => i.layers.some((l) => l.sizeSource === 'estimated'));
  if (estimated) notes.push('figures include estimated sizes (from the fleet file or the build context), marked in the layer lists');

  const withVersions = (img: FleetImage) => {
    let v = 0;
    return img.layers.map((l) => ({ ...l, versions: (v += l.changes) }));
  };
  return {
    period: fleet.period,
    before: beforeFigures,
    after: afterFigures,
    saved: {
      coldPull: beforeFigures.coldPull - afterFigures.coldPull,
      periodPull: beforeFigures.periodPull - afterFigures.periodPull,
      registry: beforeFigures.registry - afterFigures.registry,
      registryPerPeriod: beforeFigures.registryPerPeriod - afterFigures.registryPerPeriod,
    },
    images: [
      ...[...before.values()].map((i) => ({ side: 'before' as const, name: i.name, layers: withVersions(i) })),
      ...[...after.values()].map((i) => ({ side: 'after' as const, name: i.name, layers: withVersions(i) })),
      ...bases.map((i) => ({ side: 'after' as const, name: i.name, layers: withVersions(i) })),
    ],
    notes,
  };
}

/** Fleet figures for images as they are (no plan): layers by chainID, sizes measured, rates from the rules matched on each layer's history step. */
export function currentFleetFigures(fleet: Fleet, images: ReadonlyMap<string, ImageSummary>): FleetFigures {
  const services = new Map<string, FleetImage>();
  for (const h of fleet.hosts) {
    for (const s of h.services) {
      const img = images.get(s);
      if (!img) throw new LayerwiseError('FLEET_INVALID', `the fleet runs service ${s}, but no image was given for it (--images ${s}=REF)`, { subject: s });
      services.set(s, {
        name: s,
        layers: img.layers.map((l) => {
          const rule = matchRule(fleet, s, l.step);
          return { id: l.chainId, label: l.step, size: l.size, sizeSource: 'measured' as const, changes: rule?.changes ?? fleet.defaultChanges };
        }),
      });
    }
  }
  return fleetFigures(fleet, services);
}
