#!/usr/bin/env node
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { reportError } from './run.js';
import { register as inspect } from './commands/inspect.js';
import { register as copy } from './commands/copy.js';
import { register as validate } from './commands/validate.js';
import { register as demo } from './commands/demo.js';
import { register as patch } from './commands/patch.js';
import { register as bundle } from './commands/bundle.js';
import { register as build } from './commands/build.js';
import { register as analyze } from './commands/analyze.js';
import { register as diff } from './commands/diff.js';
import { register as lint } from './commands/lint.js';
import { register as plan } from './commands/plan.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('layerwise')
    .description('Ship container image updates as small, verified, byte-exact patches and release bundles; build, inspect, copy, validate, analyze, lint and plan images.')
    .version(pkg.version)
    .showHelpAfterError()
    .exitOverride();
  for (const reg of [demo, inspect, copy, validate, patch, bundle, build, analyze, diff, lint, plan]) reg(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
