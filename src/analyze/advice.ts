import { formatBytes } from './bytes.js';
import type { DuplicateResult } from './duplicates.js';
import { JUNK_RULES, stepKind, type JunkRule } from './junk.js';
import type { FsNode } from './overlay.js';
import type { Attribution, Finding, PathBytes } from './report.js';
import type { ToolchainGroup } from './toolchain.js';
import type { WasteGroup } from './waste.js';

/** Names a layer in findings: the history step, its layer index and, with a Dockerfile, the line. */
export type Attributor = (layer: number) => Attribution;

const MAX_PATHS = 10;

function shortStep(step: string): string {
  const s = step.replace(/\s+/g, ' ').trim();
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}

/** "RUN apt-get update ... (layer 3, Dockerfile line 4)" */
export function describeAttribution(a: Attribution): string {
  return `${shortStep(a.step)} (layer ${a.layer}${a.line !== undefined ? `, Dockerfile line ${a.line}` : ''})`;
}

function topPaths(roots: Map<string, number>): PathBytes[] {
  return [...roots].map(([path, bytes]) => ({ path, bytes })).sort((a, b) => b.bytes - a.bytes || a.path.localeCompare(b.path)).slice(0, MAX_PATHS);
}

function listPaths(paths: PathBytes[], max = 3): string {
  const shown = paths.slice(0, max).map((p) => p.path).join(', ');
  return paths.length > max ? `${shown} and more` : shown;
}

const display = (p: string) => (p.startsWith('/') ? p : '/' + p);

/** Turns hidden bytes into findings: one per (storing layer, hiding layer, how). */
export function wasteFindings(groups: readonly WasteGroup[], attr: Attributor): Finding[] {
  return groups.map((g) => {
    const at = attr(g.layer);
    const by = attr(g.by);
    const roots = new Map([...g.roots].map(([p, b]) => [display(p), b]));
    const paths = topPaths(roots);
    const what = `${listPaths(paths)} (${formatBytes(g.bytes)}${g.files > 1 ? ` in ${g.files} files` : ''})`;
    const storedBy = stepKind(at.step);
    let title: string;
    let fix: string;
    let rule: string;
    const junk = g.junkRule ? JUNK_RULES.find((r) => r.id === g.junkRule) : undefined;
    if (g.reason === 'deleted' && junk && storedBy === 'run') {
      // Cleanup one step too late: the same junk advice, said where it helps.
      rule = 'waste.deleted';
      title = `${describeAttribution(at)} stores ${what.replace(/\)$/, `, ${junk.label})`)} that ${describeAttribution(by)} deletes too late: the bytes still ship in layer ${g.layer}`;
      fix = `${junk.fix('run', paths[0]?.path ?? '')}, in the RUN that creates them, not in a later one`;
    } else if (g.reason === 'deleted') {
      rule = 'waste.deleted';
      title = `${describeAttribution(at)} stores ${what} that ${describeAttribution(by)} deletes: the bytes still ship in layer ${g.layer}`;
      fix = storedBy === 'copy'
        ? `leave them out of the COPY (list them in .dockerignore or copy a narrower source) instead of deleting them later`
        : `create and delete them in the same RUN (or produce them in a build stage and COPY only what is needed), so they never reach a layer`;
    } else if (g.reason === 'rewritten') {
      rule = 'waste.rewritten';
      title = `${describeAttribution(by)} stores ${what} again with unchanged content (e.g. chmod, chown or touch): layer ${g.layer} still ships the first copy`;
      fix = `set owner and mode where the files are created (COPY --chown/--chmod, or chmod in the same RUN), not in a later step`;
    } else if (g.layer === g.by) {
      rule = 'waste.overwritten';
      title = `${describeAttribution(at)} stores ${what} twice in one layer (the tar has the same path more than once)`;
      fix = `write each path once when building the layer`;
    } else {
      rule = 'waste.overwritten';
      title = `${describeAttribution(by)} replaces ${what} that ${describeAttribution(at)} stored: the old copies still ship in layer ${g.layer}`;
      fix = `produce the final version in one step (merge the steps, or build in a separate stage and COPY the result)`;
    }
    return { rule, kind: 'waste' as const, ...at, title, fix, bytes: g.bytes, savings: g.bytes, paths, hiddenBy: by };
  });
}

export interface JunkGroup {
  rule: JunkRule;
  layer: number;
  bytes: number;
  roots: Map<string, number>;
  nodes: FsNode[];
}

/** One finding per junk rule and layer that left it. */
export function junkFindings(groups: readonly JunkGroup[], attr: Attributor): Finding[] {
  return groups.map((g) => {
    const at = attr(g.layer);
    const paths = topPaths(new Map([...g.roots].map(([p, b]) => [display(p), b])));
    const kind = stepKind(at.step);
    const verb = kind === 'copy' ? 'brings' : 'leaves';
    return {
      rule: g.rule.id,
      kind: 'junk' as const,
      ...at,
      title: `${describeAttribution(at)} ${verb} ${listPaths(paths)} (${formatBytes(g.bytes)}, ${g.rule.label})`,
      fix: g.rule.fix(kind, paths[0]?.path ?? ''),
      bytes: g.bytes,
      savings: g.bytes,
      paths,
    };
  });
}

export function toolchainFindings(groups: readonly ToolchainGroup[], attr: Attributor): Finding[] {
  return groups.map((g) => {
    const at = attr(g.layer);
    const paths = topPaths(g.roots);
    const names = g.packages.length > 0 ? `${g.packages.slice(0, 5).join(', ')}${g.packages.length > 5 ? ` and ${g.packages.length - 5} more packages` : ''}` : listPaths(paths);
    return {
      rule: 'toolchain',
      kind: 'toolchain' as const,
      ...at,
      title: `${describeAttribution(at)} leaves a build toolchain in the final image: ${names} (${formatBytes(g.bytes)})`,
      fix: `build in a separate stage (FROM ... AS build) and COPY --from=build only the artefacts into a runtime image without compilers and headers`,
      bytes: g.bytes,
      savings: g.bytes,
      paths,
      ...(g.packages.length > 0 ? { packages: g.packages } : {}),
    };
  });
}

/**
 * One finding per layer that stores visible copies of content already visible elsewhere. The oldest
 * visible copy counts as the original. Copies another finding already claims are left out.
 */
export function duplicateFindings(dups: DuplicateResult, claimed: ReadonlySet<FsNode>, attr: Attributor): Finding[] {
  const byLayer = new Map<number, { bytes: number; files: number; roots: Map<string, number>; originals: Set<string> }>();
  for (const g of dups.groups) {
    const visible = g.refs.filter((r) => r.visible && r.node && !claimed.has(r.node)).sort((a, b) => a.layer - b.layer || a.path.localeCompare(b.path));
    for (const extra of visible.slice(1)) {
      let e = byLayer.get(extra.layer);
      if (!e) byLayer.set(extra.layer, (e = { bytes: 0, files: 0, roots: new Map(), originals: new Set() }));
      e.bytes += g.size;
      e.files++;
      e.roots.set('/' + extra.path, g.size);
      e.originals.add('/' + visible[0]!.path);
    }
  }
  return [...byLayer].map(([layer, e]) => {
    const at = attr(layer);
    const paths = topPaths(e.roots);
    return {
      rule: 'duplicate',
      kind: 'duplicate' as const,
      ...at,
      title: `${describeAttribution(at)} stores ${e.files} file${e.files > 1 ? 's' : ''} whose identical content is already in the image: ${listPaths(paths)} (${formatBytes(e.bytes)})`,
      fix: `keep one copy: hardlink or symlink the others (e.g. to ${[...e.originals].slice(0, 1).join('')}), or stop copying the same content twice`,
      bytes: e.bytes,
      savings: e.bytes,
      paths,
    };
  });
}
