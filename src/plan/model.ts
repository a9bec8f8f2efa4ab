/**
 * The data the planner works on and returns. Plain data, no methods: the CLI formats it, tests compare
 * it, `--json` prints it.
 */

/** What a step is for, read from its instruction: names bases and explains the tree. */
export type StepCategory = 'from' | 'system-packages' | 'dependencies' | 'manifests' | 'model' | 'code' | 'files' | 'run' | 'config';

/** One instruction of a stage, normalised. */
export interface Step {
  keyword: string;
  /**
   * The canonical key: two steps with equal keys (after equal prefixes) make the same filesystem and
   * config change. Resolved ARG/ENV values, sorted package lists, normalised quoting and whitespace,
   * and for COPY/ADD from the build context the digest of the files copied.
   */
  key: string;
  /** The Dockerfile text to emit, as written in the source (or as the planner wrote it). */
  text: string;
  /** Comment lines directly above it (without '#'). */
  comments: readonly string[];
  /** RUN, COPY and ADD change the filesystem: each makes a layer. */
  layer: boolean;
  category: StepCategory;
  /** Programs it runs that name the step (apt-get, pip, npm...), for base names. */
  tools: readonly string[];
  /** Index of the source instruction in its Dockerfile; undefined for a step the planner made. */
  origin: number | undefined;
  /** COPY/ADD from the build context: the source paths, after variable substitution. */
  contextSources: readonly string[] | undefined;
  /** A step the planner made (the manifest COPY of a reorder): the size of its tar, from the build context. */
  contextTarSize?: number;
  /**
   * ARG only: the variables it defines with their resolved values, and whether the ARG itself gives the
   * default (`own`) or takes it from a global ARG or --build-arg (then a generated Dockerfile spells the value out).
   */
  args?: readonly { name: string; value: string | undefined; own: boolean }[];
}

/** A move the reorder pass made (or refused to make), with the reason in one line. */
export interface ReorderNote {
  service: string;
  stage: number;
  applied: boolean;
  /** Texts of the steps it moved (or would have moved). */
  steps: string[];
  reason: string;
}

export interface StagePlan {
  index: number;
  /** The `AS name`, when there is one. */
  name: string | undefined;
  /** The FROM image (normalised name), or undefined for `FROM <stage>` and unresolved bases. */
  image: string | undefined;
  /** The stage's steps after reordering; steps[0] is the FROM. */
  steps: Step[];
  /** The steps in the order the Dockerfile has them (the "before" of the savings). */
  originalSteps: Step[];
  /** The deepest base image this stage now builds on, or undefined. */
  base: number | undefined;
  /** How many of `steps` (FROM included) the base replaces. */
  replaced: number;
  reordered: boolean;
}

export interface ServicePlan {
  name: string;
  /** The Dockerfile's path as given. */
  path: string;
  /** The build context folder, when known. */
  context: string | undefined;
  stages: StagePlan[];
  /** Index of the stage that is the image (the last one). */
  finalStage: number;
  /** The Dockerfile as read. */
  original: string;
  /** The rewritten Dockerfile. */
  dockerfile: string;
  changed: boolean;
}

export interface BasePlan {
  id: number;
  /** Image name to build it as: <prefix>/base-<id>-<slug>. */
  name: string;
  /** The parent: another base's id, or the external image it starts from. */
  parent: { kind: 'base'; id: number } | { kind: 'image'; image: string };
  /** The steps it adds over its parent (the FROM excluded). */
  steps: Step[];
  /** ARG steps of its ancestors, re-declared because ARGs are not inherited through FROM. */
  inheritedArgs: Step[];
  /** Services whose stages build on it, directly or through a child base. */
  services: string[];
  /** Every stage through it (directly or through a child base); its steps are steps[start..end] of each. */
  members: { service: string; stage: number }[];
  start: number;
  end: number;
  /** Direct users: child bases and (service, stage) pairs. */
  children: number[];
  stages: { service: string; stage: number }[];
  /** Where the files its COPY steps read come from. */
  contextFrom: { service: string; context: string | undefined };
  dockerfile: string;
}

export interface PlanOptions {
  /** Repository prefix for base image names. */
  prefix: string;
  /** A base needs at least this many layer steps (RUN/COPY/ADD) beyond its parent. */
  minSteps: number;
  /** A base needs at least this many services building on it. */
  minServices: number;
  /** Apply the reorder pass. */
  reorder: boolean;
}

export const DEFAULT_PLAN_OPTIONS: PlanOptions = { prefix: 'layerwise', minSteps: 1, minServices: 2, reorder: true };

export interface Plan {
  options: PlanOptions;
  services: ServicePlan[];
  /** In tree order (parents before children). */
  bases: BasePlan[];
  reorders: ReorderNote[];
}
