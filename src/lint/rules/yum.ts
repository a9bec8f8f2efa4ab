/** LW207: yum, dnf and microdnf caches. */
import { Facts } from '../facts.js';
import { CACHE_PATHS, isOsInstall, removes } from '../steps.js';
import type { RawFinding, Rule } from '../types.js';
import { appendCommand } from './edits.js';
import { optional } from './apt.js';
import { shippedRuns } from './scope.js';

export const yumCache: Rule = {
  meta: {
    id: 'LW207', name: 'yum-cache-left', severity: 'warning', category: 'packages', fixable: true,
    title: 'yum/dnf cache not cleaned in the same RUN',
    why: 'yum and dnf keep repository metadata and downloaded packages under /var/cache; unless the same RUN cleans it, it is committed into the layer (often 100+ MB).',
    fix: 'End the RUN with && dnf clean all (yum clean all, microdnf clean all), or use RUN --mount=type=cache,target=/var/cache/dnf.',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const run of shippedRuns(ctx)) {
      const inst = run.tools.find((t) => (t.tool === 'yum' || t.tool === 'dnf' || t.tool === 'microdnf') && isOsInstall(t));
      if (!inst) continue;
      if (run.tools.some((t) => (t.tool === 'yum' || t.tool === 'dnf' || t.tool === 'microdnf') && t.subcommand === 'clean') || run.tools.some((t) => removes(t, CACHE_PATHS.yum))) continue;
      if (Facts.mounted(run, CACHE_PATHS.yum)) continue;
      const prog = inst.tool;
      out.push({
        message: `\`${prog} ${inst.subcommand}\` leaves its cache in /var/cache; end the RUN with \`${prog} clean all\``,
        span: ctx.facts.wordSpan(run.instruction, inst.subcommandWord, inst.nested),
        ...optional(appendCommand(ctx.facts, run, `${prog} clean all`)),
      });
    }
    return out;
  },
};

export const yumRules: Rule[] = [yumCache];
