import { describeStep, historyForLayers, type HistoryEntry } from '../model/config.js';
import type { Image } from '../model/image.js';
import { silentProgress, type Progress } from '../progress.js';
import { duplicateFindings, junkFindings, toolchainFindings, wasteFindings, type Attributor, type JunkGroup } from './advice.js';
import { attributeLayers } from './dockerfile-attribution.js';
import { findDuplicates } from './duplicates.js';
import { classifyJunk } from './junk.js';
import { mergeLayers, nodePath, walk, type FsNode, type MergedFilesystem } from './overlay.js';
import { capturePackageMetadata, findPackages } from './packages/index.js';
import { anyGlob } from './paths.js';
import { ANALYZE_SCHEMA_VERSION, type AnalyzeReport, type Finding, type LayerReport, type PathBytes } from './report.js';
import { scanLayer, type LayerScan } from './scan.js';
import { efficiencyScore, wastedFraction } from './score.js';
import { findToolchains, toolchainRoot } from './toolchain.js';
import { computeTotals, type Totals } from './totals.js';
import { computeWaste } from './waste.js';

export interface AnalyzeOptions {
  /** Dockerfile text (and the name to show) to attribute findings to lines. */
  dockerfile?: { path: string; text: string };
  /** Globs of paths left out of waste, junk, toolchain and duplicate figures. */
  ignore?: readonly string[];
  /** How many largest files and folders to list (default 20). */
  top?: number;
  /** How many duplicate groups to list in the report (all are counted; default 100). */
  maxDuplicateGroups?: number;
  progress?: Progress;
}

export interface Analysis {
  report: AnalyzeReport;
  /** The merged final filesystem (for the HTML treemap). */
  fs: MergedFilesystem;
  totals: Totals;
}

/** Reads every layer once and builds the report. Memory holds per-entry metadata only. */
export async function analyzeImage(image: Image, opts: AnalyzeOptions = {}): Promise<Analysis> {
  const progress = opts.progress ?? silentProgress;
  // A byte total only when every layer knows its uncompressed size (progress counts tar bytes).
  const knownTotal = image.layers.every((l) => l.uncompressedSize !== undefined) ? image.layers.reduce((a, l) => a + (l.uncompressedSize ?? 0), 0) : undefined;
  progress.start(`analyzing ${image.layers.length} layers`, knownTotal);
  const scans: LayerScan[] = [];
  for (let i = 0; i < image.layers.length; i++) {
    // One layer at a time: the layer stream's diffID check and the tar scan share one core anyway.
    const scan = await scanLayer(image.layers[i]!, i, { capture: capturePackageMetadata, onBytes: (n) => progress.advance(n) });
    scans.push(scan);
  }
  progress.done();
  return analyzeScans(image, scans, opts);
}

/** The pure part: from scanned layers to the report. */
export function analyzeScans(image: Pick<Image, 'reference' | 'id' | 'digest' | 'config' | 'layers'>, scans: readonly LayerScan[], opts: AnalyzeOptions = {}): Analysis {
  const ignoreGlobs = [...(opts.ignore ?? [])];
  const ignore = anyGlob(ignoreGlobs);
  const fs = mergeLayers(scans);
  const totals = computeTotals(fs.root);
  const history = historyForLayers(image.config);
  const lines = opts.dockerfile ? attributeLayers(image.config, opts.dockerfile.text) : [];
  const attr: Attributor = (layer) => ({ layer, step: stepText(history[layer]), ...(lines[layer] !== undefined ? { line: lines[layer] } : {}) });

  const waste = computeWaste(fs, scans.length, ignore);
  const storedBytes = scans.reduce((a, s) => a + s.entries.reduce((b, e) => b + (e.kind === 'file' ? e.size : 0), 0), 0);

  // One walk over the final filesystem: junk, toolchain folders, largest files.
  const junkGroups = new Map<string, JunkGroup>();
  const claimed = new Set<FsNode>();
  const toolchainPaths: { path: string; node: FsNode; root: string }[] = [];
  const top = opts.top ?? 20;
  let largest: (PathBytes & { layer: number })[] = [];
  let finalFiles = 0;
  let visibleBytes = 0;
  for (const [path, n] of walk(fs.root, '')) {
    if (n.entry?.kind !== 'file') continue;
    finalFiles++;
    visibleBytes += n.entry.size;
    largest.push({ path: '/' + path, bytes: n.entry.size, layer: n.layer });
    if (largest.length > top * 8) largest = largest.sort((a, b) => b.bytes - a.bytes).slice(0, top);
    if (ignore?.(path)) continue;
    const j = classifyJunk(path);
    if (j) {
      const key = `${j.rule.id}:${n.layer}`;
      let g = junkGroups.get(key);
      if (!g) junkGroups.set(key, (g = { rule: j.rule, layer: n.layer, bytes: 0, roots: new Map(), nodes: [] }));
      g.bytes += n.entry.size;
      g.roots.set(j.root, (g.roots.get(j.root) ?? 0) + n.entry.size);
      g.nodes.push(n);
      claimed.add(n);
      continue;
    }
    const t = toolchainRoot(path);
    if (t) toolchainPaths.push({ path, node: n, root: t });
  }
  largest = largest.sort((a, b) => b.bytes - a.bytes || a.path.localeCompare(b.path)).slice(0, top);

  const found = findPackages(scans, fs.root);
  const candidates = ignore ? found.map((p) => ({ ...p, nodes: p.nodes.filter((n) => !ignore(nodePath(n))) })) : found;
  const toolchains = findToolchains(candidates, toolchainPaths, claimed);
  for (const g of toolchains) for (const n of g.nodes) claimed.add(n);
  const dups = findDuplicates(scans, fs.root, ignore);

  const junkList = [...junkGroups.values()].filter((g) => g.bytes > 0);
  const findings: Finding[] = [
    ...wasteFindings(waste.groups, attr),
    ...junkFindings(junkList, attr),
    ...toolchainFindings(toolchains, attr),
    ...duplicateFindings(dups, claimed, attr),
  ].sort((a, b) => b.savings - a.savings || a.layer - b.layer || a.rule.localeCompare(b.rule));

  const layers: LayerReport[] = scans.map((s, i) => {
    const l = image.layers[i]!;
    const ch = fs.changes[i]!;
    return {
      ...attr(i),
      createdBy: history[i]?.created_by ?? '',
      digest: l.descriptor.digest,
      diffId: l.diffId,
      compressedBytes: l.descriptor.size,
      tarBytes: s.tarBytes,
      fileBytes: s.entries.reduce((a, e) => a + (e.kind === 'file' ? e.size : 0), 0),
      entries: s.entries.length,
      empty: s.entries.length === 0,
      added: ch.added,
      modified: ch.modified,
      removed: ch.removed,
      wastedBytes: waste.perLayer[i] ?? 0,
      changes: { added: largestOf(ch.paths.added, top), modified: largestOf(ch.paths.modified, top), removed: largestOf(ch.paths.removed, top) },
    };
  });

  // Folders by size; a folder that only wraps one child folder of the same size (/var around
  // /var/lib/apt/lists) adds nothing to the list and is skipped.
  const dirs: { node: FsNode; bytes: number }[] = [];
  for (const [n, bytes] of totals.bytes) {
    if (!n.parent || bytes === 0) continue;
    let wrapper = false;
    for (const c of n.children!.values()) if (c.children && totals.bytes.get(c) === bytes) wrapper = true;
    if (!wrapper) dirs.push({ node: n, bytes });
  }
  const largestDirs = dirs
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top)
    .map((d) => ({ path: '/' + nodePath(d.node), bytes: d.bytes }));

  const junkBytes = junkList.reduce((a, g) => a + g.bytes, 0);
  const finalBytes = visibleBytes + waste.rescuedBytes;
  const report: AnalyzeReport = {
    schemaVersion: ANALYZE_SCHEMA_VERSION,
    reference: image.reference,
    imageId: image.id,
    manifestDigest: image.digest,
    platform: `${image.config.os}/${image.config.architecture}${image.config.variant ? '/' + image.config.variant : ''}`,
    ...(opts.dockerfile ? { dockerfile: opts.dockerfile.path } : {}),
    ignored: ignoreGlobs,
    totals: {
      layers: scans.length,
      compressedBytes: image.layers.reduce((a, l) => a + l.descriptor.size, 0),
      tarBytes: scans.reduce((a, s) => a + s.tarBytes, 0),
      storedBytes,
      finalBytes,
      finalFiles,
      wastedBytes: waste.wastedBytes,
      wastedPercent: Math.round(wastedFraction(storedBytes, waste.wastedBytes) * 1e6) / 1e4,
      efficiency: Math.round(efficiencyScore(storedBytes, waste.wastedBytes) * 1e6) / 1e6,
      duplicateBytes: dups.visibleExtraBytes,
      junkBytes,
      potentialSavings: findings.reduce((a, f) => a + f.savings, 0),
    },
    layers,
    findings,
    duplicates: dups.groups.slice(0, opts.maxDuplicateGroups ?? 100).map(({ refs: _refs, ...g }) => g),
    largestFiles: largest,
    largestDirs,
    packages: found.map((p) => ({ ecosystem: p.ecosystem, name: p.name, version: p.version, bytes: p.bytes, files: p.files, source: p.source, ...attr(p.layer) })),
  };
  return { report, fs, totals };
}


/** describeStep, without BuildKit's decorations ("RUN /bin/sh -c ... # buildkit" reads as "RUN ..."). */
export function stepText(h: HistoryEntry | undefined): string {
  return describeStep(h).replace(/\s*# buildkit$/, '').replace(/^RUN \/bin\/sh -c /, 'RUN ');
}

function largestOf(paths: readonly [string, number][], n: number): PathBytes[] {
  return [...paths]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, n)
    .map(([p, bytes]) => ({ path: '/' + p, bytes }));
}
