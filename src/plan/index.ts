// `layerwise plan`: a tree of shared base images from Dockerfiles, what images share, and the savings for a fleet.
export * from './model.js';
export { planDockerfiles, baseSlug, type DockerfileInput, type PlanInputOptions } from './plan.js';
export { findDockerfiles } from './inputs.js';
export { normalizeInstruction, normalizeStage, canonicalScript } from './normalize.js';
export { reorderStage } from './reorder.js';
export { sharedPrefixes, type PrefixPath, type PrefixTree, type SharedPrefix } from './prefix-tree.js';
export { emitBaseDockerfile, emitServiceDockerfile } from './emit.js';
export { analyseSharing, type ImageSharingReport, type DuplicateContent, type SharedLayer } from './images.js';
export { measureStage, type StageMeasurement } from './sizes.js';
export { parseFleet, fleetFigures, type Fleet, type FleetFigures, type FleetImage, type FleetLayer } from './fleet.js';
export { computeSavings, currentFleetFigures, treeSizes, type SavingsReport, type TreeSizes } from './savings.js';
export { runPlan, parseImageArgument, type PlanReport, type PlanRequest } from './report.js';
export { writePlan } from './write.js';
export { BuildContext } from './context.js';
export { planTty } from './format/tty.js';
export { planJson } from './format/json.js';
export { planHtml } from './format/html.js';
