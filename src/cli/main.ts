#!/usr/bin/env node
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { reportError } from './run.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

type Registrar = { register(program: Command): void };
/** Command modules, loaded on demand: a run loads only the one it needs (each pulls in its part of the library). */
const COMMANDS: Record<string, () => Promise<Registrar>> = {
  demo: () => import('./commands/demo.js'),
  inspect: () => import('./commands/inspect.js'),
  copy: () => import('./commands/copy.js'),
  validate: () => import('./commands/validate.js'),
  patch: () => import('./commands/patch.js'),
  bundle: () => import('./commands/bundle.js'),
  build: () => import('./commands/build.js'),
  analyze: () => import('./commands/analyze.js'),
  diff: () => import('./commands/diff.js'),
  lint: () => import('./commands/lint.js'),
  plan: () => import('./commands/plan.js'),
};

/** The program with the commands `argv` can reach: the named one, or all of them for help, errors and suggestions. */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command();
  program
    .name('layerwise')
    .description('Ship container image updates as small, verified, byte-exact patches and release bundles; build, inspect, copy, validate, analyze, lint and plan images.')
    .version(pkg.version)
    .showHelpAfterError()
    .exitOverride();
  const first = argv.slice(2).find((a) => !a.startsWith('-'));
  const versionOnly = first === undefined && argv.slice(2).some((a) => a === '-V' || a === '--version');
  const names = first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : versionOnly ? [] : Object.keys(COMMANDS);
  for (const m of await Promise.all(names.map((n) => COMMANDS[n]!()))) m.register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await (await buildProgram(argv)).parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
