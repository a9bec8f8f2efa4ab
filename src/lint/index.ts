// `layerwise lint`: Dockerfile, build-context and dependency-pinning rules.
export * from './types.js';
export { lint, lintFile, fails, type LintInput, type LintResult, type LintFileOptions, type ContextSummary } from './engine.js';
export { fixDockerfile, fixFile, applyEdits, type FixResult, type FixFileResult, type FixOptions } from './fix.js';
export { scanContext, type BuildContext, type ContextItem, type ItemCategory } from './context.js';
export { loadConfig, parseConfig, configFromObject } from './config.js';
export { RULES, ruleById } from './rules/index.js';
export { unifiedDiff } from './diff.js';
export { formatTty } from './format/tty.js';
export { formatJson, type JsonReport } from './format/json.js';
export { formatSarif } from './format/sarif.js';
export { findDockerfiles } from './targets.js';
