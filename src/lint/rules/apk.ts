/** LW204: apk's index cache. */
import { hasOption } from '../../dockerfile/commands.js';
import { Facts } from '../facts.js';
import { CACHE_PATHS, removes } from '../steps.js';
import type { RawFinding, Rule } from '../types.js';
import { appendCommand, insertAfter } from './edits.js';
import { optional } from './apt.js';
import { shippedRuns } from './scope.js';

export const apkCache: Rule = {
  meta: {
    id: 'LW204', name: 'apk-cache-left', severity: 'warning', category: 'packages', fixable: true,
    title: 'apk index cache left in the layer',
    why: '`apk add` without --no-cache (and `apk update`) stores the package index under /var/cache/apk; it is committed into the layer and useless at run time.',
    fix: 'Use apk add --no-cache (it fetches the index without storing it), or RUN --mount=type=cache,target=/var/cache/apk.',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const run of shippedRuns(ctx)) {
      if (run.tools.some((t) => removes(t, CACHE_PATHS.apk)) || Facts.mounted(run, CACHE_PATHS.apk)) continue;
      for (const t of run.tools) {
        if (t.tool !== 'apk') continue;
        if (t.subcommand === 'add' && !hasOption(t, '--no-cache')) {
          out.push({
            message: '`apk add` without --no-cache keeps the package index in /var/cache/apk',
            span: ctx.facts.wordSpan(run.instruction, t.subcommandWord, t.nested),
            ...optional(insertAfter(ctx.facts, run, t.subcommandWord, '--no-cache', t.nested)),
          });
        } else if (t.subcommand === 'update') {
          out.push({
            message: '`apk update` stores the package index in /var/cache/apk; use apk add --no-cache instead, or remove the cache in this RUN',
            span: ctx.facts.wordSpan(run.instruction, t.subcommandWord, t.nested),
            ...optional(run.tools.some((x) => x.tool === 'apk' && x.subcommand === 'add') ? appendCommand(ctx.facts, run, 'rm -rf /var/cache/apk/*') : undefined),
          });
        }
      }
    }
    return out;
  },
};

export const apkRules: Rule[] = [apkCache];
