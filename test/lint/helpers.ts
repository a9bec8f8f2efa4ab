import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { lintFile, type LintResult } from '../../src/lint/engine.js';
import { DEFAULT_CONFIG, type LintConfig } from '../../src/lint/types.js';

/** Files of a test build context: text, or a number for a file of that many bytes. */
export type ContextFiles = Record<string, string | number>;

const dirs: string[] = [];

/** Writes a Dockerfile and its context into a fresh temp folder. */
export function writeContext(dockerfile: string, files: ContextFiles = {}): string {
  const dir = mkdtempSync('/tmp/lw-lint-');
  dirs.push(dir);
  writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, typeof content === 'number' ? Buffer.alloc(content, 7) : content);
  }
  return dir;
}

export function cleanupContexts(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export async function lintContext(dockerfile: string, files: ContextFiles = {}, config: Partial<LintConfig> = {}, target?: string): Promise<LintResult> {
  const dir = writeContext(dockerfile, files);
  return lintFile(path.join(dir, 'Dockerfile'), { config: { ...DEFAULT_CONFIG, ...config }, cwd: dir, ...(target ? { target } : {}) });
}

/** "LW202@4" for each finding, in report order. */
export function ids(r: LintResult): string[] {
  return r.findings.map((f) => `${f.ruleId}@${f.line ?? '-'}${f.file === 'Dockerfile' ? '' : ':' + f.file}`);
}
