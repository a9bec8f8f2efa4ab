/** LW206, LW209: npm, yarn and pnpm installs. */
import { hasOption } from '../../dockerfile/commands.js';
import { Facts } from '../facts.js';
import { CACHE_PATHS, removes } from '../steps.js';
import type { RawFinding, Rule } from '../types.js';
import { appendCommand } from './edits.js';
import { optional } from './apt.js';
import { allRuns, envValue, shippedRuns } from './scope.js';

export const lockfileInstall: Rule = {
  meta: {
    id: 'LW206', name: 'node-install-not-frozen', severity: 'warning', category: 'packages', fixable: false,
    title: 'npm install / yarn install that may ignore or rewrite the lockfile',
    why: '`npm install` resolves package.json ranges again and may update the lockfile, so every build can get different dependency versions; `npm ci` installs exactly the lockfile (and fails if it is out of date), and is faster.',
    fix: 'Use npm ci (add --omit=dev for production), yarn install --frozen-lockfile (Yarn 1) or --immutable (Yarn 2+), pnpm install --frozen-lockfile.',
  },
  check: ({ facts }) => {
    const out: RawFinding[] = [];
    for (const run of allRuns(facts)) {
      for (const t of run.tools) {
        const word = t.subcommandWord ?? t.programWord;
        const span = facts.wordSpan(run.instruction, word, t.nested);
        if (t.tool === 'npm' && t.subcommand === 'install' && t.operands.length === 0 && !hasOption(t, '-g', '--global')) {
          out.push({ message: '`npm install` may resolve different versions than the lockfile; use `npm ci`', span });
        } else if (t.tool === 'yarn' && t.subcommand === 'install' && !hasOption(t, '--frozen-lockfile', '--immutable', '--pure-lockfile') && !envValue(run, t.env, 'CI') && !envValue(run, t.env, 'YARN_ENABLE_IMMUTABLE_INSTALLS')) {
          out.push({ message: '`yarn install` without --frozen-lockfile (Yarn 1) or --immutable (Yarn 2+) may rewrite yarn.lock during the build', span });
        } else if (t.tool === 'pnpm' && t.subcommand === 'install' && !hasOption(t, '--frozen-lockfile') && !envValue(run, t.env, 'CI')) {
          out.push({ message: '`pnpm install` without --frozen-lockfile may rewrite pnpm-lock.yaml during the build', span });
        }
      }
    }
    return out;
  },
};

export const nodeCache: Rule = {
  meta: {
    id: 'LW209', name: 'node-cache-left', severity: 'info', category: 'packages', fixable: true,
    title: 'npm/yarn cache left in the layer',
    why: 'npm keeps a copy of every downloaded tarball in ~/.npm and Yarn in its cache folder; in the image that is a second copy of node_modules nobody reads.',
    fix: 'End the RUN with && npm cache clean --force (yarn cache clean), or use RUN --mount=type=cache,target=/root/.npm (/usr/local/share/.cache/yarn) to keep it out of the layer.',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const run of shippedRuns(ctx)) {
      for (const t of run.tools) {
        const span = ctx.facts.wordSpan(run.instruction, t.subcommandWord ?? t.programWord, t.nested);
        if (t.tool === 'npm' && (t.subcommand === 'ci' || t.subcommand === 'install')) {
          if (Facts.mounted(run, CACHE_PATHS.npm) || run.tools.some((x) => removes(x, CACHE_PATHS.npm) || (x.tool === 'npm' && x.subcommand === 'cache' && x.operands[0]?.value === 'clean'))) continue;
          if (t.options.some((o) => o.name === '--cache' && /^\/tmp\b/.test(o.value ?? '')) && run.tools.some((x) => removes(x, ['/tmp']))) continue;
          out.push({ message: `\`npm ${t.subcommand}\` leaves its download cache (~/.npm) in the layer`, span, ...optional(appendCommand(ctx.facts, run, 'npm cache clean --force')) });
        } else if (t.tool === 'yarn' && (t.subcommand === 'install' || t.subcommand === 'add' || t.subcommand === 'global')) {
          if (Facts.mounted(run, CACHE_PATHS.yarn) || run.tools.some((x) => removes(x, CACHE_PATHS.yarn) || (x.tool === 'yarn' && x.subcommand === 'cache'))) continue;
          out.push({ message: '`yarn install` leaves its cache in the layer', span, ...optional(appendCommand(ctx.facts, run, 'yarn cache clean')) });
        }
      }
    }
    return out;
  },
};

export const nodeRules: Rule[] = [lockfileInstall, nodeCache];
