/** Classifies the image after FROM: scratch, an earlier stage, a registry image, or unresolved. */
import { LayerwiseError } from '../errors.js';
import { parseDockerName } from '../transports/reference.js';
import type { BaseImage, Span } from './model.js';
import type { Expansion } from './variables.js';

export function classifyBase(raw: string, expansion: Expansion, stageNames: readonly (string | undefined)[], platform: string | undefined, span: Span): BaseImage {
  const resolved = expansion.value;
  const common = { raw, resolved, platform, span };
  if (expansion.unresolved.length) {
    return { ...common, kind: 'unresolved', name: undefined, stage: undefined, problem: `no value for ${expansion.unresolved.map((n) => '$' + n).join(', ')}` };
  }
  if (resolved.toLowerCase() === 'scratch') return { ...common, kind: 'scratch', name: undefined, stage: undefined, problem: undefined };
  const stage = stageNames.indexOf(resolved.toLowerCase());
  if (stage >= 0) return { ...common, kind: 'stage', name: undefined, stage, problem: undefined };
  try {
    return { ...common, kind: 'image', name: parseDockerName(resolved, 'FROM'), stage: undefined, problem: undefined };
  } catch (err) {
    const message = err instanceof LayerwiseError ? err.message : String(err);
    return { ...common, kind: 'unresolved', name: undefined, stage: undefined, problem: message };
  }
}

/** The short form of a parsed base image name for messages: python:3.12-slim, ghcr.io/x/y:1. */
export function displayName(base: BaseImage): string {
  return base.resolved || base.raw;
}
