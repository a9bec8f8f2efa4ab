/** Machine-readable output: every finding with its location, per Dockerfile, and a summary. */
import type { LintResult } from '../engine.js';

export interface JsonReport {
  tool: 'layerwise';
  version: string;
  results: {
    file: string;
    findings: { ruleId: string; severity: string; message: string; file: string; line: number | null; column: number | null; endLine: number | null; endColumn: number | null; fixable: boolean }[];
    suppressed: number;
    context: LintResult['context'] | null;
  }[];
  summary: { error: number; warning: number; info: number; fixable: number; failed: boolean };
}

export function formatJson(results: readonly LintResult[], version: string, failed: boolean): JsonReport {
  const summary = { error: 0, warning: 0, info: 0, fixable: 0, failed };
  return {
    tool: 'layerwise',
    version,
    results: results.map((r) => ({
      file: r.file,
      findings: r.findings.map((f) => {
        summary[f.severity]++;
        if (f.fixable) summary.fixable++;
        return { ruleId: f.ruleId, severity: f.severity, message: f.message, file: f.file, line: f.line ?? null, column: f.column ?? null, endLine: f.endLine ?? null, endColumn: f.endColumn ?? null, fixable: f.fixable };
      }),
      suppressed: r.suppressed,
      context: r.context ?? null,
    })),
    summary,
  };
}
