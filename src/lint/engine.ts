/**
 * Runs the rules over a parsed Dockerfile (pure: model + scanned context + config in, findings out),
 * applies the configuration (disabled rules, changed severities) and inline ignores:
 *
 *   # layerwise ignore=LW202,LW203      (comment line(s) right above an instruction: that instruction)
 *   # layerwise ignore-file=LW103       (anywhere: the whole file, context findings included)
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { asLayerwiseError, LayerwiseError } from '../errors.js';
import type { Dockerfile, Span } from '../dockerfile/model.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import { scanContext, type BuildContext } from './context.js';
import { Facts } from './facts.js';
import { RULES } from './rules/index.js';
import { DEFAULT_CONFIG, severityRank, type Finding, type LintConfig, type RawFinding, type Rule, type Severity } from './types.js';

export interface LintInput {
  dockerfile: Dockerfile;
  /** How to show the Dockerfile's path in findings. */
  file: string;
  context?: BuildContext | undefined;
  /** How to show a context-relative path (requirements.txt) in findings; default: as is. */
  contextPath?: (rel: string) => string;
  config?: LintConfig;
  /** The stage whose image is the result (docker build --target); default the last. */
  target?: string;
  rules?: readonly Rule[];
}

export interface ContextSummary {
  root: string;
  ignoreFile: string | undefined;
  totalSize: number;
  totalFiles: number;
  excludedSize: number;
  excludedFiles: number;
  largest: { path: string; size: number }[];
}

export interface LintResult {
  file: string;
  findings: Finding[];
  /** Findings hidden by inline ignore comments. */
  suppressed: number;
  context: ContextSummary | undefined;
}

const IGNORE = /^layerwise\s+ignore(-file)?\s*=\s*([A-Za-z0-9_,\s]+)$/i;

function parseIgnore(text: string): { file: boolean; ids: string[] } | undefined {
  const m = IGNORE.exec(text.trim());
  if (!m) return undefined;
  return { file: !!m[1], ids: m[2]!.split(/[\s,]+/).filter(Boolean).map((s) => s.toUpperCase()) };
}

interface Ignores {
  file: Set<string>;
  /** Inclusive 1-based line ranges of instructions with the ids ignored there. */
  ranges: { from: number; to: number; ids: Set<string> }[];
}

function collectIgnores(df: Dockerfile): Ignores {
  const file = new Set<string>();
  for (const c of df.comments) {
    const ig = parseIgnore(c.text);
    if (ig?.file) ig.ids.forEach((id) => file.add(id));
  }
  const ranges: Ignores['ranges'] = [];
  for (const ins of df.instructions) {
    const ids = new Set<string>();
    for (const c of ins.comments) {
      const ig = parseIgnore(c);
      if (ig && !ig.file) ig.ids.forEach((id) => ids.add(id));
    }
    if (ids.size) ranges.push({ from: ins.span.start.line, to: ins.span.end.line, ids });
  }
  return { file, ranges };
}

function isIgnored(ig: Ignores, f: Finding, dockerfileShown: string): boolean {
  const hit = (ids: Set<string>) => ids.has(f.ruleId) || ids.has('ALL');
  if (hit(ig.file)) return true;
  if (f.file !== dockerfileShown || f.line === undefined) return false;
  return ig.ranges.some((r) => f.line! >= r.from && f.line! <= r.to && hit(r.ids));
}

function locate(span: Span | undefined): Pick<Finding, 'line' | 'column' | 'endLine' | 'endColumn'> {
  if (!span) return { line: undefined, column: undefined, endLine: undefined, endColumn: undefined };
  return { line: span.start.line, column: span.start.column, endLine: span.end.line, endColumn: span.end.column };
}

export function lint(input: LintInput): LintResult {
  const config = input.config ?? DEFAULT_CONFIG;
  const df = input.dockerfile;
  if (input.target !== undefined && !df.stages.some((s) => s.name === input.target!.toLowerCase())) {
    throw new LayerwiseError('LINT_TARGET_NOT_FOUND', `${input.file}: no stage named "${input.target}" (stages: ${df.stages.map((s) => s.name ?? `#${s.index}`).join(', ') || 'none'})`);
  }
  const facts = new Facts(df, input.target);
  const ctx = { dockerfile: df, facts, context: input.context, config };
  const shownContext = input.contextPath ?? ((rel: string) => rel);
  const disabled = new Set(config.disable.map((d) => d.toUpperCase()));
  const ignores = collectIgnores(df);
  const findings: Finding[] = [];
  let suppressed = 0;
  for (const rule of input.rules ?? RULES) {
    if (disabled.has(rule.meta.id)) continue;
    const severity: Severity = config.severity[rule.meta.id] ?? rule.meta.severity;
    let raw: RawFinding[];
    try {
      raw = rule.check(ctx);
    } catch (err) {
      throw new LayerwiseError('INTERNAL', `${input.file}: rule ${rule.meta.id} failed: ${(err as Error).message}`, { cause: err });
    }
    for (const r of raw) {
      let f: Finding;
      if (r.file !== undefined) {
        const text = input.context?.texts.get(r.file);
        const snippet = r.fileLine !== undefined && text !== undefined ? text.split(/\r?\n/)[r.fileLine - 1] : undefined;
        f = { ruleId: rule.meta.id, severity, message: r.message, file: shownContext(r.file), line: r.fileLine, column: r.fileLine !== undefined ? 1 : undefined, endLine: r.fileLine, endColumn: snippet !== undefined ? snippet.length + 1 : undefined, snippet, fixable: false, edits: undefined };
      } else {
        f = {
          ruleId: rule.meta.id,
          severity,
          message: r.message,
          file: input.file,
          ...locate(r.span),
          snippet: r.span ? facts.src.line(r.span.start.line) : undefined,
          fixable: rule.meta.fixable && !!r.edits,
          edits: rule.meta.fixable ? r.edits : undefined,
        };
      }
      if (isIgnored(ignores, f, input.file)) suppressed++;
      else findings.push(f);
    }
  }
  findings.sort((a, b) => (a.file === b.file ? 0 : a.file === input.file ? -1 : b.file === input.file ? 1 : a.file.localeCompare(b.file)) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0) || a.ruleId.localeCompare(b.ruleId));
  const c = input.context;
  return {
    file: input.file,
    findings,
    suppressed,
    context: c && { root: c.root, ignoreFile: c.ignoreFile, totalSize: c.totalSize, totalFiles: c.totalFiles, excludedSize: c.excludedSize, excludedFiles: c.excludedFiles, largest: c.largest.slice(0, 5) },
  };
}

/** Whether findings reach the failure threshold. */
export function fails(findings: readonly Finding[], failOn: LintConfig['failOn']): boolean {
  if (failOn === 'never') return false;
  return findings.some((f) => severityRank(f.severity) >= severityRank(failOn));
}

export interface LintFileOptions {
  config?: LintConfig;
  /** The build context folder; default the Dockerfile's folder. null: do not scan a context. */
  contextDir?: string | null;
  buildArgs?: Record<string, string>;
  target?: string;
  /** Paths in findings are shown relative to this folder (default: the current directory). */
  cwd?: string;
}

/** Reads a Dockerfile, scans its build context and lints both. */
export async function lintFile(file: string, options: LintFileOptions = {}): Promise<LintResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw asLayerwiseError(err, file);
  }
  const cwd = options.cwd ?? process.cwd();
  const shown = (abs: string) => {
    const rel = path.relative(cwd, abs);
    return rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel || '.';
  };
  const contextDir = options.contextDir === null ? undefined : path.resolve(options.contextDir ?? path.dirname(file));
  const context = contextDir ? await scanContext(contextDir, { dockerfile: path.resolve(file) }) : undefined;
  const dockerfile = parseDockerfile(text, { path: file, ...(options.buildArgs ? { buildArgs: options.buildArgs } : {}) });
  return lint({
    dockerfile,
    file: shown(path.resolve(file)),
    context,
    contextPath: (rel) => shown(path.join(contextDir!, rel)),
    ...(options.config ? { config: options.config } : {}),
    ...(options.target !== undefined ? { target: options.target } : {}),
  });
}
