import type { Command } from 'commander';
import { readFile, writeFile } from 'node:fs/promises';
import { LayerwiseError, asLayerwiseError } from '../../errors.js';
import { writeAtomically } from '../../stream/atomic.js';
import { runPlan, parseImageArgument } from '../../plan/report.js';
import { writePlan } from '../../plan/write.js';
import { planTty } from '../../plan/format/tty.js';
import { planJson } from '../../plan/format/json.js';
import { planHtml } from '../../plan/format/html.js';
import { color, printJson } from '../format.js';
import { imageOptions, openOptions, type CommonFlags } from '../options.js';

interface PlanFlags extends CommonFlags {
  images?: string[];
  fleet?: string;
  html?: string;
  write?: string;
  force?: boolean;
  prefix?: string;
  minSteps?: string;
  minServices?: string;
  reorder?: boolean;
  buildArg?: string[];
  duplicates?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

function count(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new LayerwiseError('USAGE', `${flag} ${text}: expected a whole number`);
  return Number(text);
}

function buildArgs(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list ?? []) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new LayerwiseError('USAGE', `--build-arg ${a}: expected NAME=VALUE`);
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}

export function register(program: Command): void {
  imageOptions(
    program
      .command('plan')
      .description('propose a tree of shared base images for a set of Dockerfiles; report what images share; compute the savings for a fleet')
      .argument('[paths...]', 'Dockerfiles, or folders searched for Dockerfile, *.Dockerfile and Dockerfile.* (each one\'s folder is its build context)')
      .option('--images <refs...>', 'images: NAME=REF gives the built image of service NAME (real layer sizes); REF alone adds an image to the sharing report')
      .option('--fleet <file>', 'deployment YAML: hosts, the services they run, sizes and change rates (see docs/plan.md)')
      .option('--json', 'machine-readable output')
      .option('--html <file>', 'write a self-contained HTML report with the tree as a graph')
      .option('--write <dir>', 'write the base and service Dockerfiles and a build.sh into DIR')
      .option('--force', 'replace DIR of --write if it exists')
      .option('--prefix <repo>', 'repository prefix of the base image names', 'layerwise')
      .option('--min-steps <n>', 'layer steps (RUN/COPY/ADD) a base must add over its parent', '1')
      .option('--min-services <n>', 'services a base must serve', '2')
      .option('--no-reorder', 'keep every Dockerfile\'s step order')
      .option('--build-arg <NAME=VALUE>', 'a build argument, as for docker build (repeatable)', collect)
      .option('--duplicates <n>', 'identical-content groups to list', '20'),
  ).action(async (paths: string[], flags: PlanFlags) => {
    let fleet: { text: string; file: string } | undefined;
    if (flags.fleet) {
      try {
        fleet = { text: await readFile(flags.fleet, 'utf8'), file: flags.fleet };
      } catch (err) {
        throw asLayerwiseError(err, flags.fleet);
      }
    }
    const report = await runPlan({
      dockerfiles: paths,
      images: (flags.images ?? []).map(parseImageArgument),
      fleet,
      options: {
        prefix: flags.prefix,
        minSteps: count(flags.minSteps, '--min-steps'),
        minServices: count(flags.minServices, '--min-services'),
        reorder: flags.reorder !== false,
        buildArgs: buildArgs(flags.buildArg),
      },
      open: openOptions(flags),
      duplicates: count(flags.duplicates, '--duplicates'),
    });
    if ((flags.write || flags.force) && !report.plan) throw new LayerwiseError('USAGE', '--write needs Dockerfiles to plan');
    const written = flags.write && report.plan ? await writePlan(report.plan, flags.write, { force: flags.force }) : undefined;
    if (flags.html) {
      const html = planHtml(report);
      await writeAtomically(flags.html, (tmp) => writeFile(tmp, html), { overwrite: true });
    }
    if (flags.json) {
      printJson(planJson(report));
      return;
    }
    let text = planTty(report, { bold: color.bold, dim: color.dim });
    if (written) text += `\nWrote ${written.files.length} files to ${flags.write} (build them with ${flags.write}/build.sh)\n`;
    if (flags.html) text += `${written ? '' : '\n'}Wrote ${flags.html}\n`;
    process.stdout.write(text);
  });
}
