// The public library API. The CLI is a thin shell over these.
export * from './errors.js';
export * from './model/digest.js';
export * from './model/descriptor.js';
export * from './model/media-types.js';
export * from './model/manifest.js';
export * from './model/config.js';
export type { Image, Layer } from './model/image.js';
export { openImage, writeImage, type OpenOptions, type WriteOptions, type WriteResult } from './transports/index.js';
export { parseReference, type ImageReference } from './transports/reference.js';
export { validateImage, type ValidationReport } from './image/validate.js';
export { inspectImage, type InspectReport } from './image/inspect.js';
export { copyImage } from './image/copy.js';
export { appendLayers } from './image/mutate.js';
export { assembleImage, MemoryLayer } from './image/memory.js';
export { randomImage, imageFromDirectory, imageFromEntries } from './testing/images.js';
export type { Progress } from './progress.js';
export { parseDockerfile, type Dockerfile, type Stage, type Instruction, type BaseImage } from './dockerfile/index.js';
export { runPlan, planDockerfiles, analyseSharing, computeSavings, parseFleet, writePlan, type Plan, type PlanReport } from './plan/index.js';
