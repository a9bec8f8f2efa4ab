/** Every lint rule, in id order. Adding a rule: write it in its family's file and list the family here. */
import type { Rule } from '../types.js';
import { syntaxRules } from './syntax.js';
import { baseImageRules } from './base-image.js';
import { aptRules } from './apt.js';
import { apkRules } from './apk.js';
import { pythonRules } from './python.js';
import { nodeRules } from './node.js';
import { yumRules } from './yum.js';
import { cleanupRules } from './cleanup.js';
import { layerRules } from './layers.js';
import { finalStageRules } from './final-stage.js';
import { contextRules } from './context.js';
import { driftRules } from './drift.js';

export const RULES: readonly Rule[] = [
  ...syntaxRules,
  ...baseImageRules,
  ...aptRules,
  ...apkRules,
  ...pythonRules,
  ...nodeRules,
  ...yumRules,
  ...cleanupRules,
  ...layerRules,
  ...finalStageRules,
  ...contextRules,
  ...driftRules,
].sort((a, b) => a.meta.id.localeCompare(b.meta.id));

export function ruleById(id: string): Rule | undefined {
  return RULES.find((r) => r.meta.id === id.toUpperCase());
}
