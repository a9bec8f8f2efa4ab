/**
 * SARIF 2.1.0 (OASIS), the format GitHub code scanning and most CI dashboards read: one run, every
 * rule in tool.driver.rules with its description and default level, one result per finding with a
 * physical location, and the mechanical fix as a SARIF fix where there is one.
 */
import type { LintResult } from '../engine.js';
import { RULES } from '../rules/index.js';
import type { Severity } from '../types.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

/** A relative path as a URI reference (forward slashes, each segment percent-encoded). */
export function pathToUri(p: string): string {
  const norm = p.replace(/\\/g, '/');
  const abs = norm.startsWith('/');
  const enc = norm.split('/').map((s) => encodeURIComponent(s)).join('/');
  return abs ? `file://${enc}` : enc;
}

export function formatSarif(results: readonly LintResult[], version: string): Record<string, unknown> {
  const ruleIndex = new Map(RULES.map((r, i) => [r.meta.id, i]));
  const sarifResults = results.flatMap((r) =>
    r.findings.map((f) => {
      const region =
        f.line !== undefined
          ? { region: { startLine: f.line, startColumn: f.column ?? 1, ...(f.endLine !== undefined ? { endLine: f.endLine } : {}), ...(f.endColumn !== undefined ? { endColumn: f.endColumn } : {}) } }
          : {};
      const result: Record<string, unknown> = {
        ruleId: f.ruleId,
        ruleIndex: ruleIndex.get(f.ruleId) ?? -1,
        level: LEVEL[f.severity],
        message: { text: f.message },
        locations: [{ physicalLocation: { artifactLocation: { uri: pathToUri(f.file) }, ...region } }],
      };
      if (f.fixable && f.edits?.length) {
        result.fixes = [
          {
            description: { text: RULES[ruleIndex.get(f.ruleId)!]!.meta.fix },
            artifactChanges: [
              {
                artifactLocation: { uri: pathToUri(f.file) },
                replacements: f.edits.map((e) => ({ deletedRegion: { charOffset: e.start, charLength: e.end - e.start }, insertedContent: { text: e.text } })),
              },
            ],
          },
        ];
      }
      return result;
    }),
  );
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'layerwise',
            semanticVersion: version,
            version,
            rules: RULES.map((r) => ({
              id: r.meta.id,
              name: r.meta.name,
              shortDescription: { text: r.meta.title },
              fullDescription: { text: r.meta.why },
              help: { text: r.meta.fix },
              defaultConfiguration: { level: LEVEL[r.meta.severity] },
              properties: { category: r.meta.category, fixable: r.meta.fixable, tags: [r.meta.category] },
            })),
          },
        },
        columnKind: 'utf16CodeUnits',
        results: sarifResults,
      },
    ],
  };
}
