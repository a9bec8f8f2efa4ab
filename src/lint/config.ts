/**
 * The `lint:` section of .layerwise.yml (other sections belong to other commands and are left alone):
 *
 *   lint:
 *     failOn: warning            # error | warning | info | never
 *     disable: [LW103, LW301]
 *     severity: { LW105: warning }
 *     trustedRegistries: [docker.io, ghcr.io]
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { asLayerwiseError, LayerwiseError } from '../errors.js';
import { RULES } from './rules/index.js';
import { DEFAULT_CONFIG, SEVERITIES, type LintConfig, type Severity } from './types.js';

const KEYS = ['failOn', 'disable', 'severity', 'trustedRegistries'] as const;

function bad(where: string, message: string): LayerwiseError {
  return new LayerwiseError('LINT_CONFIG_INVALID', `${where}: ${message}`, { subject: where });
}

function ruleId(where: string, id: unknown): string {
  if (typeof id !== 'string' || !RULES.some((r) => r.meta.id === id.toUpperCase())) throw bad(where, `unknown rule ${JSON.stringify(id)} (rule ids look like LW101; see docs/lint-rules.md)`);
  return id.toUpperCase();
}

function severity(where: string, s: unknown): Severity {
  if (typeof s !== 'string' || !(SEVERITIES as readonly string[]).includes(s)) throw bad(where, `severity must be one of ${SEVERITIES.join(', ')}, not ${JSON.stringify(s)}`);
  return s as Severity;
}

/** Validates the `lint:` value of a parsed .layerwise.yml. */
export function configFromObject(value: unknown, where = '.layerwise.yml'): LintConfig {
  if (value === undefined || value === null) return DEFAULT_CONFIG;
  if (typeof value !== 'object' || Array.isArray(value)) throw bad(where, '"lint" must be a mapping');
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) if (!(KEYS as readonly string[]).includes(k)) throw bad(where, `unknown key lint.${k} (known: ${KEYS.join(', ')})`);
  let failOn: LintConfig['failOn'] = DEFAULT_CONFIG.failOn;
  if (v.failOn !== undefined) failOn = v.failOn === 'never' || v.failOn === 'none' ? 'never' : severity(`${where}: lint.failOn`, v.failOn);
  const list = (key: string): unknown[] => {
    const x = v[key];
    if (x === undefined || x === null) return [];
    if (!Array.isArray(x)) throw bad(where, `lint.${key} must be a list`);
    return x;
  };
  const disable = list('disable').map((id) => ruleId(`${where}: lint.disable`, id));
  const sev: Record<string, Severity> = {};
  if (v.severity !== undefined && v.severity !== null) {
    if (typeof v.severity !== 'object' || Array.isArray(v.severity)) throw bad(where, 'lint.severity must map rule ids to severities');
    for (const [id, s] of Object.entries(v.severity as Record<string, unknown>)) sev[ruleId(`${where}: lint.severity`, id)] = severity(`${where}: lint.severity.${id}`, s);
  }
  const trustedRegistries = list('trustedRegistries').map((r) => {
    if (typeof r !== 'string' || !r) throw bad(where, 'lint.trustedRegistries must be a list of registry host names');
    return r.toLowerCase();
  });
  return { failOn, disable, severity: sev, trustedRegistries };
}

/** Parses .layerwise.yml text and returns its lint configuration. */
export function parseConfig(text: string, where = '.layerwise.yml'): LintConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw bad(where, `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return DEFAULT_CONFIG;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw bad(where, 'the file must be a mapping with a "lint:" section');
  return configFromObject((doc as Record<string, unknown>).lint, where);
}

/** Reads a config file; when `file` is undefined, reads ./.layerwise.yml if there is one. */
export async function loadConfig(file: string | undefined, cwd = process.cwd()): Promise<LintConfig> {
  const candidates = file ? [file] : [`${cwd}/.layerwise.yml`, `${cwd}/.layerwise.yaml`];
  for (const c of candidates) {
    let text: string;
    try {
      text = await readFile(c, 'utf8');
    } catch (err) {
      if (!file && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw asLayerwiseError(err, c);
    }
    return parseConfig(text, file ?? c.slice(cwd.length + 1));
  }
  return DEFAULT_CONFIG;
}
