/** LW201-LW203: apt-get (and the update step of apk). */
import { hasOption } from '../../dockerfile/commands.js';
import { Facts } from '../facts.js';
import { CACHE_PATHS, removes } from '../steps.js';
import type { RawFinding, Rule } from '../types.js';
import { appendCommand, insertAfter } from './edits.js';
import { allRuns, shippedRuns, shippedStages } from './scope.js';

export const updateAlone: Rule = {
  meta: {
    id: 'LW201', name: 'package-update-alone', severity: 'warning', category: 'packages', fixable: false,
    title: 'Package index update in a RUN without the install',
    why: 'The build cache keeps the `apt-get update` layer for months while the install line changes, so installs run against a stale index (404s for removed package versions) or, for apk, leave the index behind in a layer.',
    fix: 'Update and install in the same RUN: RUN apt-get update && apt-get install -y --no-install-recommends pkg && rm -rf /var/lib/apt/lists/*',
  },
  check: ({ facts }) => {
    const out: RawFinding[] = [];
    for (const run of allRuns(facts)) {
      for (const [tool, update, install] of [['apt-get', 'update', ['install', 'upgrade', 'dist-upgrade', 'full-upgrade', 'build-dep']], ['apk', 'update', ['add', 'upgrade']]] as const) {
        const upd = run.tools.find((t) => t.tool === tool && t.subcommand === update);
        if (!upd) continue;
        if (run.tools.some((t) => t.tool === tool && (install as readonly string[]).includes(t.subcommand ?? ''))) continue;
        out.push({ message: `\`${upd.program} ${update}\` runs in a RUN without any \`${upd.program} ${install[0]}\`; the cached index layer goes stale and stays in the image`, span: facts.wordSpan(run.instruction, upd.subcommandWord, upd.nested) });
      }
    }
    return out;
  },
};

export const installRecommends: Rule = {
  meta: {
    id: 'LW202', name: 'apt-no-install-recommends', severity: 'warning', category: 'packages', fixable: true,
    title: 'apt-get install without --no-install-recommends',
    why: 'By default apt also installs every "recommended" package; for a container that is often tens or hundreds of MB of documentation, X11 libraries and tools nothing uses.',
    fix: 'Add --no-install-recommends, and name any recommended package you do need explicitly.',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    const earlier: string[] = [];
    for (const stage of shippedStages(ctx)) {
      for (const ins of stage.instructions) {
        const run = ctx.facts.run(ins);
        if (!run) continue;
        const configured = earlier.some((s) => /Install-Recommends\s*"?(false|0)/i.test(s));
        for (const t of run.tools) {
          if (t.tool !== 'apt-get' || t.subcommand !== 'install') continue;
          if (hasOption(t, '--no-install-recommends') || t.options.some((o) => o.name === '-o' || o.name === '--option' ? /Install-Recommends=(false|0)/i.test(o.value ?? '') : false) || configured) continue;
          out.push({
            message: `\`${t.program} install\` without --no-install-recommends pulls in recommended packages too`,
            span: ctx.facts.wordSpan(ins, t.subcommandWord, t.nested),
            ...optional(insertAfter(ctx.facts, run, t.subcommandWord, '--no-install-recommends', t.nested)),
          });
        }
        earlier.push(ins.command?.script ?? '');
      }
    }
    return out;
  },
};

export const aptLists: Rule = {
  meta: {
    id: 'LW203', name: 'apt-lists-left', severity: 'warning', category: 'packages', fixable: true,
    title: 'apt lists not removed in the same RUN',
    why: '`apt-get update` downloads package lists (30-50 MB) into /var/lib/apt/lists; unless the same RUN deletes them they are committed into the layer, and deleting them in a later RUN does not shrink the image.',
    fix: 'End the RUN with && rm -rf /var/lib/apt/lists/*, or use RUN --mount=type=cache,target=/var/lib/apt/lists (and /var/cache/apt) so they never enter a layer.',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const run of shippedRuns(ctx)) {
      const upd = run.tools.find((t) => t.tool === 'apt-get' && t.subcommand === 'update');
      if (!upd) continue;
      if (run.tools.some((t) => removes(t, CACHE_PATHS.aptLists) || removes(t, ['/var/lib/apt']))) continue;
      if (Facts.mounted(run, CACHE_PATHS.aptLists)) continue;
      const installs = run.tools.some((t) => t.tool === 'apt-get' && t.subcommand !== 'update');
      out.push({
        message: `\`${upd.program} update\` leaves /var/lib/apt/lists in this layer; remove it at the end of the same RUN`,
        span: ctx.facts.wordSpan(run.instruction, upd.subcommandWord, upd.nested),
        // Deleting the lists after an update-only RUN would break the install that follows; fix only RUNs that also install.
        ...optional(installs ? appendCommand(ctx.facts, run, 'rm -rf /var/lib/apt/lists/*') : undefined),
      });
    }
    return out;
  },
};

export function optional(edits: RawFinding['edits']): { edits?: RawFinding['edits'] } {
  return edits ? { edits } : {};
}

export const aptRules: Rule[] = [updateAlone, installRecommends, aptLists];
