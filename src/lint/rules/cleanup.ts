/** LW208: deleting files in a later layer. */
import { isCleanup } from '../steps.js';
import type { RawFinding, Rule } from '../types.js';
import { shippedStages } from './scope.js';

export const cleanupLayer: Rule = {
  meta: {
    id: 'LW208', name: 'cleanup-in-separate-layer', severity: 'warning', category: 'packages', fixable: false,
    title: 'Files deleted in a RUN of their own',
    why: 'Each RUN is a layer on top of the earlier ones: deleting files in a later RUN only hides them, the bytes stay in the earlier layer and are still pulled with the image.',
    fix: 'Delete caches and temporary files at the end of the RUN that created them (or use cache mounts, or a multi-stage build).',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const stage of shippedStages(ctx)) {
      for (const ins of stage.instructions) {
        const run = ctx.facts.run(ins);
        if (!run) continue;
        const cmds = run.script.commands.filter((c) => c.argv.length > 0);
        if (cmds.length > 0 && run.tools.length === cmds.length && run.tools.every(isCleanup)) {
          out.push({ message: `this RUN only deletes files (${cmds.map((c) => c.argv.slice(0, 2).map((w) => w.value).join(' ')).join(', ')}); the bytes stay in the earlier layer (or base image) that created them`, span: ctx.facts.keywordSpan(ins) });
        }
      }
    }
    return out;
  },
};

export const cleanupRules: Rule[] = [cleanupLayer];
