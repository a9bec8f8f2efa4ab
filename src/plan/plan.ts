/**
 * `planDockerfiles`: Dockerfiles in, a tree of base images out. Parse each Dockerfile, read its build
 * context (for the content of COPY sources and the reorder checks), normalise every stage, reorder
 * where safe, find the shared prefixes, name the bases, and write the base and service Dockerfiles.
 */
import { parseDockerfile } from '../dockerfile/parse.js';
import type { Dockerfile } from '../dockerfile/model.js';
import { LayerwiseError } from '../errors.js';
import { normalizeImageName } from '../transports/reference.js';
import { BuildContext } from './context.js';
import { emitBaseDockerfile, emitServiceDockerfile } from './emit.js';
import { DEFAULT_PLAN_OPTIONS, type BasePlan, type Plan, type PlanOptions, type ReorderNote, type ServicePlan, type StagePlan, type Step } from './model.js';
import { normalizeStage } from './normalize.js';
import { sharedPrefixes, type PrefixPath } from './prefix-tree.js';
import { reorderStage } from './reorder.js';

export interface DockerfileInput {
  /** The service name (unique). */
  name: string;
  /** The Dockerfile path, for messages and output. */
  path: string;
  text: string;
  /** The build context folder; undefined when unknown (COPY contents are then unknown and never shared). */
  context: string | undefined;
}

export interface PlanInputOptions extends Partial<PlanOptions> {
  buildArgs?: Readonly<Record<string, string>>;
}

const SLUG_OF: Partial<Record<Step['category'], (s: Step) => string[]>> = {
  'system-packages': (s) => s.tools.map((t) => (t === 'apt-get' ? 'apt' : t)),
  dependencies: (s) => [...s.tools],
  model: () => ['model'],
  code: () => ['app'],
  files: () => ['files'],
  run: () => ['run'],
};

/** A short name for a base from its FROM image and what its own steps install. */
export function baseSlug(image: string | undefined, steps: readonly Step[]): string {
  const parts: string[] = [];
  if (image) {
    const repo = image.replace(/[@:][^/]*$/, '');
    parts.push(repo.slice(repo.lastIndexOf('/') + 1));
  }
  for (const s of steps) if (s.layer) for (const p of SLUG_OF[s.category]?.(s) ?? []) if (!parts.includes(p)) parts.push(p);
  const slug = parts.slice(0, 4).join('-').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  return slug || 'shared';
}

async function copyDigests(df: Dockerfile, ctx: BuildContext | undefined, steps: Step[]): Promise<Map<number, string | undefined>> {
  const out = new Map<number, string | undefined>();
  if (!ctx) return out;
  for (const s of steps) if (s.origin !== undefined && s.contextSources) out.set(s.origin, await ctx.sourcesDigest(s.contextSources));
  return out;
}

export async function planDockerfiles(inputs: readonly DockerfileInput[], options: PlanInputOptions = {}): Promise<Plan> {
  const opts: PlanOptions = {
    prefix: options.prefix ?? DEFAULT_PLAN_OPTIONS.prefix,
    minSteps: options.minSteps ?? DEFAULT_PLAN_OPTIONS.minSteps,
    minServices: options.minServices ?? DEFAULT_PLAN_OPTIONS.minServices,
    reorder: options.reorder ?? DEFAULT_PLAN_OPTIONS.reorder,
  };
  if (!/^[a-z0-9]+([._/-][a-z0-9]+)*$/.test(opts.prefix)) throw new LayerwiseError('USAGE', `--prefix ${JSON.stringify(opts.prefix)}: use a lowercase repository prefix such as "acme" or "registry.example.com/acme"`);
  if (!(opts.minSteps >= 1) || !(opts.minServices >= 2)) throw new LayerwiseError('USAGE', '--min-steps must be at least 1 and --min-services at least 2');
  const names = new Set<string>();
  for (const i of inputs) {
    if (names.has(i.name)) throw new LayerwiseError('PLAN_INPUT_INVALID', `two Dockerfiles are both named ${i.name}; give each service its own folder`, { subject: i.path });
    names.add(i.name);
  }

  const parsed: { input: DockerfileInput; df: Dockerfile; ctx: BuildContext | undefined; stages: StagePlan[] }[] = [];
  const reorders: ReorderNote[] = [];
  for (const input of inputs) {
    const df = parseDockerfile(input.text, { path: input.path, buildArgs: options.buildArgs });
    if (df.stages.length === 0) throw new LayerwiseError('PLAN_INPUT_INVALID', `${input.path}: no FROM instruction`, { subject: input.path });
    const ctx = input.context === undefined ? undefined : await BuildContext.open(input.context);
    const stages: StagePlan[] = [];
    for (const stage of df.stages) {
      const first = normalizeStage(df, stage, { service: input.name, copyDigests: new Map(), buildArgs: options.buildArgs });
      const originalSteps = normalizeStage(df, stage, { service: input.name, copyDigests: await copyDigests(df, ctx, first), buildArgs: options.buildArgs });
      let steps = originalSteps;
      let reordered = false;
      if (opts.reorder) {
        const r = await reorderStage({ service: input.name, stage: stage.index, df, steps, context: ctx });
        reordered = r.notes.some((n) => n.applied);
        steps = r.steps;
        reorders.push(...r.notes);
      }
      const image = stage.base.kind === 'image' ? normalizeImageName(stage.base.resolved) : stage.base.kind === 'scratch' ? 'scratch' : undefined;
      stages.push({ index: stage.index, name: stage.name, image, steps, originalSteps, base: undefined, replaced: 0, reordered });
    }
    parsed.push({ input, df, ctx, stages });
  }

  const paths: (PrefixPath & { ref: StagePlan; service: string })[] = [];
  for (const p of parsed) for (const s of p.stages) if (s.image !== undefined) paths.push({ service: p.input.name, stage: s.index, steps: s.steps, ref: s });
  const tree = sharedPrefixes(paths, { minSteps: opts.minSteps, minServices: opts.minServices });

  const bases: BasePlan[] = [];
  tree.prefixes.forEach((pre, i) => {
    const rep = paths[pre.representative]!;
    const parentDepth = pre.parent === undefined ? 0 : tree.prefixes[pre.parent]!.depth;
    const steps = rep.steps.slice(parentDepth + 1, pre.depth + 1);
    const repParsed = parsed.find((p) => p.input.name === rep.service)!;
    const fromIns = repParsed.df.stages[rep.stage]!.from;
    const id = i + 1;
    const slug = baseSlug(pre.parent === undefined ? rep.ref.image : undefined, steps);
    const parentImage = fromIns.base!.kind === 'scratch' ? 'scratch' : fromIns.base!.resolved;
    bases.push({
      id,
      name: `${opts.prefix}/base-${id}-${slug}`,
      parent: pre.parent === undefined ? { kind: 'image', image: parentImage } : { kind: 'base', id: pre.parent + 1 },
      steps,
      inheritedArgs: rep.steps.slice(1, parentDepth + 1).filter((s) => s.keyword === 'ARG'),
      services: pre.services,
      members: pre.paths.map((pi) => ({ service: paths[pi]!.service, stage: paths[pi]!.stage })),
      start: parentDepth + 1,
      end: pre.depth,
      children: pre.children.map((c) => c + 1),
      stages: pre.direct.map((pi) => ({ service: paths[pi]!.service, stage: paths[pi]!.stage })),
      contextFrom: { service: rep.service, context: repParsed.input.context },
      dockerfile: '',
    });
  });
  for (const b of bases) {
    const from = b.parent.kind === 'base' ? bases[b.parent.id - 1]!.name : b.parent.image;
    const platform = b.parent.kind === 'image' ? platformOf(parsed, paths, tree.prefixes[b.id - 1]!.representative) : undefined;
    b.dockerfile = emitBaseDockerfile({ id: b.id, name: b.name, from: platform ? `--platform=${platform} ${from}` : from, services: b.services, inheritedArgs: b.inheritedArgs, steps: b.steps });
  }
  tree.deepest.forEach((d, pi) => {
    if (d === undefined) return;
    paths[pi]!.ref.base = d + 1;
    paths[pi]!.ref.replaced = tree.prefixes[d]!.depth + 1;
  });

  const baseNames = new Map(bases.map((b) => [b.id, b.name]));
  const services: ServicePlan[] = parsed.map((p) => {
    const dockerfile = emitServiceDockerfile(p.df, p.stages, baseNames);
    return {
      name: p.input.name,
      path: p.input.path,
      context: p.input.context,
      stages: p.stages,
      finalStage: p.stages.length - 1,
      original: p.input.text,
      dockerfile,
      changed: dockerfile !== p.input.text,
    };
  });
  return { options: opts, services, bases, reorders };
}

function platformOf(parsed: { input: DockerfileInput; df: Dockerfile }[], paths: PrefixPath[], rep: number): string | undefined {
  const p = paths[rep]!;
  return parsed.find((x) => x.input.name === p.service)!.df.stages[p.stage]!.from.base!.platform;
}

