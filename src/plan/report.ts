/**
 * `layerwise plan` as one library call: Dockerfiles and/or images in, a report out. From Dockerfiles:
 * the tree of bases, the rewritten Dockerfiles and, with the built images bound to their services,
 * real layer sizes. From images: shared layers and identical content stored in different layers.
 * With a fleet file: the savings (or, for images alone, the fleet's current figures).
 */
import { LayerwiseError } from '../errors.js';
import type { Image } from '../model/image.js';
import { openImage, type OpenOptions } from '../transports/index.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import { parseFleet, type FleetFigures } from './fleet.js';
import { analyseSharing, type ImageSharingReport } from './images.js';
import { findDockerfiles } from './inputs.js';
import type { Plan } from './model.js';
import { planDockerfiles, type PlanInputOptions } from './plan.js';
import { computeSavings, currentFleetFigures, treeSizes, type SavingsReport, type TreeSizes } from './savings.js';
import { measureStage, type StageMeasurement } from './sizes.js';

export interface ImageArgument {
  /** The service the image was built for (NAME=REF), or undefined. */
  service: string | undefined;
  ref: string;
}

/** `NAME=REF` binds an image to a service; anything else is a reference. */
export function parseImageArgument(text: string): ImageArgument {
  const m = /^([a-z0-9][a-z0-9._-]*)=(.+)$/.exec(text);
  return m ? { service: m[1]!, ref: m[2]! } : { service: undefined, ref: text };
}

export interface PlanRequest {
  /** Dockerfiles or folders holding them. */
  dockerfiles: readonly string[];
  images: readonly ImageArgument[];
  fleet?: { text: string; file: string };
  options?: PlanInputOptions;
  open?: OpenOptions;
  /** Identical-content groups to list. */
  duplicates?: number;
}

export interface PlanReport {
  kind: 'layerwise.plan';
  version: 1;
  plan: Plan | undefined;
  sizes: TreeSizes | undefined;
  measurements: { service: string; image: string; problem: string | undefined; baseLayers: number }[];
  sharing: ImageSharingReport | undefined;
  savings: SavingsReport | undefined;
  /** Images only, with a fleet: the fleet's figures as the images are. */
  current: (FleetFigures & { period: string }) | undefined;
}

export async function runPlan(req: PlanRequest): Promise<PlanReport> {
  if (!req.dockerfiles.length && !req.images.length) throw new LayerwiseError('USAGE', 'plan needs Dockerfiles (or folders holding them), --images, or both');
  const fleet = req.fleet ? parseFleet(req.fleet.text, req.fleet.file) : undefined;
  const plan = req.dockerfiles.length ? await planDockerfiles(await findDockerfiles(req.dockerfiles), req.options) : undefined;
  if (plan) {
    for (const a of req.images) {
      if (a.service !== undefined && !plan.services.some((s) => s.name === a.service)) {
        throw new LayerwiseError('PLAN_INPUT_INVALID', `--images ${a.service}=${a.ref}: no Dockerfile for a service named ${a.service} (services: ${plan.services.map((s) => s.name).join(', ')})`);
      }
    }
  }
  const opened: { name: string; image: Image; service: string | undefined; ref: string }[] = [];
  try {
    for (const a of req.images) {
      const image = await openImage(a.ref, req.open);
      opened.push({ name: a.service ?? a.ref, image, service: a.service, ref: a.ref });
    }
    const sharing = opened.length ? await analyseSharing(opened, { limit: req.duplicates ?? 20 }) : undefined;
    const measurements = new Map<string, StageMeasurement>();
    if (plan && sharing) {
      opened.forEach((o, i) => {
        if (o.service === undefined) return;
        const sp = plan.services.find((s) => s.name === o.service)!;
        const df = parseDockerfile(sp.original, { path: sp.path, buildArgs: req.options?.buildArgs });
        measurements.set(o.service, measureStage(df, sharing.images[i]!, o.service));
      });
    }
    let current: PlanReport['current'];
    if (!plan && fleet && sharing) {
      const byService = new Map(sharing.images.map((s, i) => [opened[i]!.service ?? s.reference, s]));
      current = { ...currentFleetFigures(fleet, byService), period: fleet.period };
    }
    return {
      kind: 'layerwise.plan',
      version: 1,
      plan,
      // Without a fleet file or a built image every size would be unknown: no sizes then.
      sizes: plan && (fleet || measurements.size) ? treeSizes(plan, fleet, measurements) : undefined,
      measurements: [...measurements.values()].map((m) => ({ service: m.service, image: opened.find((o) => o.service === m.service)!.ref, problem: m.problem, baseLayers: m.base.layers })),
      sharing,
      savings: plan && fleet ? computeSavings(plan, fleet, measurements) : undefined,
      current,
    };
  } finally {
    for (const o of opened) await o.image.close();
  }
}
