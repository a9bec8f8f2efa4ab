/**
 * `--fix`: applies the edits fixable rules offer, round by round (an edit can only be computed on
 * the text the previous round produced, e.g. merging RUNs after flags were added), until nothing
 * fixable is left. Every edit is one a rule declared meaning-preserving; overlapping edits wait for
 * the next round.
 */
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { asLayerwiseError } from '../errors.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import { writeAtomically } from '../stream/atomic.js';
import { unifiedDiff } from './diff.js';
import { lint } from './engine.js';
import type { BuildContext } from './context.js';
import type { Edit, LintConfig } from './types.js';

export interface FixOptions {
  file?: string;
  config?: LintConfig;
  target?: string;
  buildArgs?: Record<string, string>;
  context?: BuildContext;
  maxRounds?: number;
}

export interface FixResult {
  text: string;
  /** The fixes applied, with the line they were found on in the round that applied them. */
  applied: { ruleId: string; line: number | undefined; message: string }[];
  rounds: number;
}

export function applyEdits(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

export function fixDockerfile(text: string, options: FixOptions = {}): FixResult {
  const applied: FixResult['applied'] = [];
  let current = text;
  let rounds = 0;
  const max = options.maxRounds ?? 20;
  while (rounds < max) {
    const dockerfile = parseDockerfile(current, { ...(options.file ? { path: options.file } : {}), ...(options.buildArgs ? { buildArgs: options.buildArgs } : {}) });
    const result = lint({
      dockerfile,
      file: options.file ?? 'Dockerfile',
      context: options.context,
      ...(options.config ? { config: options.config } : {}),
      ...(options.target !== undefined ? { target: options.target } : {}),
    });
    const taken: Edit[] = [];
    for (const f of result.findings) {
      if (!f.fixable || !f.edits?.length) continue;
      const clash = f.edits.some((e) => taken.some((t) => e.start === t.start || (e.start < t.end && t.start < e.end)));
      if (clash) continue;
      taken.push(...f.edits);
      applied.push({ ruleId: f.ruleId, line: f.line, message: f.message });
    }
    if (!taken.length) break;
    current = applyEdits(current, taken);
    rounds++;
  }
  return { text: current, applied, rounds };
}

export interface FixFileResult extends FixResult {
  before: string;
  /** Unified diff of the change ('' when nothing changed). */
  diff: string;
  written: boolean;
}

/** Fixes a Dockerfile on disk (through a temporary file and a rename, keeping its mode); with dryRun only computes the diff. */
export async function fixFile(file: string, options: FixOptions & { dryRun?: boolean; shownAs?: string } = {}): Promise<FixFileResult> {
  let before: string;
  let mode: number;
  try {
    before = await readFile(file, 'utf8');
    mode = (await stat(file)).mode & 0o7777;
  } catch (err) {
    throw asLayerwiseError(err, file);
  }
  const shown = options.shownAs ?? file;
  const r = fixDockerfile(before, { ...options, file: shown });
  const diff = unifiedDiff(before, r.text, `a/${shown}`, `b/${shown}`);
  let written = false;
  if (diff && !options.dryRun) {
    await writeAtomically(
      file,
      async (tmp) => {
        await writeFile(tmp, r.text, { mode });
        await chmod(tmp, mode);
      },
      { overwrite: true },
    );
    written = true;
  }
  return { ...r, before, diff, written };
}
