/** The vocabulary of `layerwise lint`: rules, findings, fixes. */
import type { Dockerfile, Span } from '../dockerfile/model.js';
import type { BuildContext } from './context.js';
import type { Facts } from './facts.js';

export type Severity = 'error' | 'warning' | 'info';

export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info'];

/** Higher is worse. */
export function severityRank(s: Severity): number {
  return s === 'error' ? 3 : s === 'warning' ? 2 : 1;
}

export type RuleCategory = 'syntax' | 'base-image' | 'packages' | 'layers' | 'final-stage' | 'instructions' | 'secrets' | 'context' | 'drift';

export interface RuleMeta {
  /** LWnnn; never reused for a different check. */
  id: string;
  /** Short kebab-case name (SARIF rule name). */
  name: string;
  severity: Severity;
  category: RuleCategory;
  /** One line: what the rule finds. */
  title: string;
  /** Why it matters for image size, build caching or reproducibility. */
  why: string;
  /** What to do instead. */
  fix: string;
  /** `--fix` can apply it mechanically without changing what the build does. */
  fixable: boolean;
}

/** A text replacement in the Dockerfile: offsets into its text, `end` exclusive. */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

/** What a rule's check returns; the engine adds the rule id, severity and file. */
export interface RawFinding {
  message: string;
  /** Where in the Dockerfile; undefined for findings about the file or build context as a whole. */
  span?: Span;
  /** A finding about another file (requirements.txt, package.json): its path relative to the context. */
  file?: string;
  /** Line in that other file (1-based). */
  fileLine?: number;
  /** The mechanical fix, for fixable rules, when it is safe in this spot. */
  edits?: Edit[];
}

export interface Finding {
  ruleId: string;
  severity: Severity;
  message: string;
  /** The file the location is in: the Dockerfile path, or a context file (requirements.txt...). */
  file: string;
  /** 1-based; undefined for whole-file findings. */
  line: number | undefined;
  column: number | undefined;
  endLine: number | undefined;
  endColumn: number | undefined;
  /** The source line the finding points at, for printing with a caret. */
  snippet: string | undefined;
  fixable: boolean;
  edits: Edit[] | undefined;
}

export interface LintConfig {
  /** Exit non-zero when any finding is at least this severe; 'never' never fails. */
  failOn: Severity | 'never';
  disable: readonly string[];
  severity: Readonly<Record<string, Severity>>;
  /** When non-empty, base images must come from these registries (docker.io, ghcr.io, ...). */
  trustedRegistries: readonly string[];
}

export const DEFAULT_CONFIG: LintConfig = { failOn: 'warning', disable: [], severity: {}, trustedRegistries: [] };

/** Everything a rule may look at. Rules are pure functions of this. */
export interface RuleContext {
  dockerfile: Dockerfile;
  facts: Facts;
  /** The scanned build context; undefined when linting without one (--no-context, stdin). */
  context: BuildContext | undefined;
  config: LintConfig;
}

export interface Rule {
  meta: RuleMeta;
  check(ctx: RuleContext): RawFinding[];
}
