import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { LayerwiseError } from '../errors.js';
import { formatBytes } from './bytes.js';
import type { AnalyzeReport } from './report.js';

/**
 * The CI gate of `layerwise analyze --ci`, read from the `analyze:` key of .layerwise.yml:
 *
 *   analyze:
 *     lowestEfficiency: 0.95        # fail below this score (0..1, or "95%")
 *     highestWastedBytes: 20MB      # fail above this many wasted bytes (number or "20MB", "1.5GiB")
 *     highestWastedPercent: 10      # fail above this share of stored bytes wasted (percent, or "10%")
 *     ignore:                       # paths left out of every figure but sizes
 *       - /var/cache/**
 */
export interface GateConfig {
  lowestEfficiency?: number;
  highestWastedBytes?: number;
  highestWastedPercent?: number;
  ignore: string[];
}

export interface GateResult {
  pass: boolean;
  /** One line per threshold crossed, with the figure and the limit. */
  failures: string[];
  checked: string[];
}

const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4, k: 1e3, m: 1e6, g: 1e9 };

export function parseByteSize(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  if (typeof v === 'string') {
    const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
    const unit = m ? UNITS[(m[2] || 'b').toLowerCase()] : undefined;
    if (m && unit !== undefined) return Math.round(Number(m[1]) * unit);
  }
  throw new LayerwiseError('ANALYZE_CONFIG_INVALID', `${where}: ${JSON.stringify(v)} is not a size (use a number of bytes or e.g. "20MB", "1.5GiB")`, { subject: where });
}

function parseFraction(v: unknown, where: string, percentScale: boolean): number {
  let n: number | undefined;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string') {
    const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(%?)\s*$/.exec(v);
    if (m) n = m[2] ? (percentScale ? Number(m[1]) : Number(m[1]) / 100) : Number(m[1]);
  }
  const max = percentScale ? 100 : 1;
  if (n === undefined || !Number.isFinite(n) || n < 0 || n > max) {
    throw new LayerwiseError('ANALYZE_CONFIG_INVALID', `${where}: ${JSON.stringify(v)} must be ${percentScale ? 'a percentage from 0 to 100' : 'a number from 0 to 1 (or a percentage like "95%")'}`, { subject: where });
  }
  return n;
}

const KEYS = new Set(['lowestEfficiency', 'highestWastedBytes', 'highestWastedPercent', 'ignore']);

/** Validates the `analyze:` section (an object; unknown keys are errors, so typos do not pass silently). */
export function parseGateConfig(section: unknown, where: string): GateConfig {
  if (section === undefined || section === null) return { ignore: [] };
  if (typeof section !== 'object' || Array.isArray(section)) {
    throw new LayerwiseError('ANALYZE_CONFIG_INVALID', `${where}: analyze must be a mapping`, { subject: where });
  }
  const o = section as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!KEYS.has(k)) throw new LayerwiseError('ANALYZE_CONFIG_INVALID', `${where}: unknown key analyze.${k} (known: ${[...KEYS].join(', ')})`, { subject: where });
  }
  const cfg: GateConfig = { ignore: [] };
  if (o.lowestEfficiency !== undefined) cfg.lowestEfficiency = parseFraction(o.lowestEfficiency, `${where}: analyze.lowestEfficiency`, false);
  if (o.highestWastedBytes !== undefined) cfg.highestWastedBytes = parseByteSize(o.highestWastedBytes, `${where}: analyze.highestWastedBytes`);
  if (o.highestWastedPercent !== undefined) cfg.highestWastedPercent = parseFraction(o.highestWastedPercent, `${where}: analyze.highestWastedPercent`, true);
  if (o.ignore !== undefined) {
    if (!Array.isArray(o.ignore) || !o.ignore.every((x) => typeof x === 'string' && x.trim() !== '')) {
      throw new LayerwiseError('ANALYZE_CONFIG_INVALID', `${where}: analyze.ignore must be a list of path globs`, { subject: where });
    }
    cfg.ignore = o.ignore as string[];
  }
  return cfg;
}

/** Reads the `analyze:` section of a .layerwise.yml; other top-level keys (lint:, ...) belong to other commands. */
export function parseLayerwiseYaml(text: string, where: string): GateConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new LayerwiseError('ANALYZE_CONFIG_INVALID', `${where}: not valid YAML: ${(err as Error).message.split('\n')[0]}`, { subject: where, cause: err });
  }
  if (doc === null || doc === undefined) return { ignore: [] };
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new LayerwiseError('ANALYZE_CONFIG_INVALID', `${where}: the file must be a mapping`, { subject: where });
  return parseGateConfig((doc as Record<string, unknown>).analyze, where);
}

/** Loads a config file; a missing file is an error only when it was named explicitly. */
export async function loadGateConfig(path: string, explicit: boolean): Promise<GateConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return undefined;
    throw new LayerwiseError(explicit ? 'ANALYZE_CONFIG_INVALID' : 'IO', `${path}: ${(err as Error).message}`, { subject: path, cause: err });
  }
  return parseLayerwiseYaml(text, path);
}

/** Checks the report against the thresholds that are set. */
export function evaluateGate(report: AnalyzeReport, cfg: GateConfig): GateResult {
  const t = report.totals;
  const failures: string[] = [];
  const checked: string[] = [];
  if (cfg.lowestEfficiency !== undefined) {
    checked.push(`efficiency ${t.efficiency.toFixed(4)} >= ${cfg.lowestEfficiency}`);
    if (t.efficiency < cfg.lowestEfficiency) failures.push(`efficiency ${t.efficiency.toFixed(4)} is below lowestEfficiency ${cfg.lowestEfficiency}`);
  }
  if (cfg.highestWastedBytes !== undefined) {
    checked.push(`wasted bytes ${t.wastedBytes} <= ${cfg.highestWastedBytes}`);
    if (t.wastedBytes > cfg.highestWastedBytes) failures.push(`wasted bytes ${t.wastedBytes} (${formatBytes(t.wastedBytes)}) exceed highestWastedBytes ${cfg.highestWastedBytes} (${formatBytes(cfg.highestWastedBytes)})`);
  }
  if (cfg.highestWastedPercent !== undefined) {
    checked.push(`wasted ${t.wastedPercent}% <= ${cfg.highestWastedPercent}%`);
    if (t.wastedPercent > cfg.highestWastedPercent) failures.push(`wasted ${t.wastedPercent}% of stored bytes exceeds highestWastedPercent ${cfg.highestWastedPercent}%`);
  }
  return { pass: failures.length === 0, failures, checked };
}
