import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LayerwiseError } from '../../errors.js';
import { loadConfig } from '../../lint/config.js';
import { fails, lintFile, type LintResult } from '../../lint/engine.js';
import { fixFile } from '../../lint/fix.js';
import { formatJson } from '../../lint/format/json.js';
import { formatSarif } from '../../lint/format/sarif.js';
import { formatTty } from '../../lint/format/tty.js';
import { findDockerfiles } from '../../lint/targets.js';
import { renderRulesDoc } from '../../lint/docs.js';
import { SEVERITIES, type LintConfig, type Severity } from '../../lint/types.js';
import { writeAtomically } from '../../stream/atomic.js';
import { EXIT } from '../run.js';

interface LintFlags {
  format: string;
  config?: string;
  failOn?: string;
  fix?: boolean;
  dryRun?: boolean;
  context?: string | false;
  buildArg: string[];
  target?: string;
  disable?: string;
  verbose?: boolean;
  output?: string;
}

const version = (): string => (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function buildArgs(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new LayerwiseError('USAGE', `--build-arg ${a}: write NAME=value`);
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}

export function register(program: Command): void {
  program
    .command('lint')
    .description('check Dockerfiles, their build context and dependency pinning for image bloat, cache busting and drift')
    .argument('[paths...]', 'Dockerfiles, or folders holding them (default: .)')
    .option('--format <format>', 'tty, json or sarif (SARIF 2.1.0)', 'tty')
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option('--config <file>', 'configuration file (default: ./.layerwise.yml if present; reads its lint: section)')
    .option('--fail-on <severity>', 'exit 1 when a finding is at least this severe: error, warning, info or never (default from config, else warning)')
    .option('--disable <ids>', 'comma-separated rule ids to skip, in addition to the configuration')
    .option('--fix', 'apply the safe mechanical fixes to the Dockerfiles and show the diff, then report what is left')
    .option('--dry-run', 'with --fix: show the diff without writing')
    .option('--context <dir>', 'build context folder (default: the folder of each Dockerfile)')
    .option('--no-context', 'do not scan a build context (skips the context and lockfile rules)')
    .option('--build-arg <name=value>', 'a build argument value (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--target <stage>', 'the stage to lint as the final image (like docker build --target)')
    .option('-v, --verbose', 'explain why each finding matters')
    .option('--list-rules', 'print every rule (id, severity, why, fix) as Markdown and exit')
    .action(async (paths: string[], flags: LintFlags & { listRules?: boolean }) => {
      if (flags.listRules) {
        process.stdout.write(renderRulesDoc());
        return;
      }
      if (!['tty', 'json', 'sarif'].includes(flags.format)) throw new LayerwiseError('USAGE', `--format ${flags.format}: use tty, json or sarif`);
      if (flags.dryRun && !flags.fix) throw new LayerwiseError('USAGE', '--dry-run only goes with --fix');
      let config: LintConfig = await loadConfig(flags.config);
      if (flags.failOn !== undefined) {
        const f = flags.failOn === 'none' ? 'never' : flags.failOn;
        if (f !== 'never' && !(SEVERITIES as readonly string[]).includes(f)) throw new LayerwiseError('USAGE', `--fail-on ${flags.failOn}: use error, warning, info or never`);
        config = { ...config, failOn: f as Severity | 'never' };
      }
      if (flags.disable) config = { ...config, disable: [...config.disable, ...flags.disable.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean)] };
      const args = buildArgs(flags.buildArg);
      const files = (await Promise.all((paths.length ? paths : ['.']).map(findDockerfiles))).flat();
      const contextDir = flags.context === false ? null : flags.context;
      const diffsTo = flags.format === 'tty' && !flags.output ? process.stdout : process.stderr;
      const results: LintResult[] = [];
      for (const file of files) {
        if (flags.fix) {
          const shownAs = path.relative(process.cwd(), path.resolve(file)) || file;
          const r = await fixFile(file, { config, ...(flags.target ? { target: flags.target } : {}), buildArgs: args, dryRun: !!flags.dryRun, shownAs });
          if (r.diff) diffsTo.write(r.diff + `${r.written ? 'fixed' : 'would fix'} ${r.applied.length} finding(s) in ${shownAs}\n\n`);
        }
        results.push(await lintFile(file, { config, ...(contextDir !== undefined ? { contextDir } : {}), buildArgs: args, ...(flags.target ? { target: flags.target } : {}) }));
      }
      const failed = results.some((r) => fails(r.findings, config.failOn));
      let text: string;
      if (flags.format === 'json') text = JSON.stringify(formatJson(results, version(), failed), null, 2) + '\n';
      else if (flags.format === 'sarif') text = JSON.stringify(formatSarif(results, version()), null, 2) + '\n';
      else text = formatTty(results, { color: !flags.output && !!process.stdout.isTTY && !process.env.NO_COLOR && process.env.TERM !== 'dumb', verbose: !!flags.verbose });
      if (flags.output) await writeAtomically(flags.output, (tmp) => writeFile(tmp, text), { overwrite: true });
      else process.stdout.write(text);
      if (failed) process.exitCode = EXIT.failure;
    });
}
