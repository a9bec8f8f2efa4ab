/** LW208: deleting files in a later layer. */
import type { ToolInvocation } from '../../dockerfile/commands.js';
import { isCleanup } from '../steps.js';
import type { RawFinding, Rule } from '../types.js';
import { shippedStages } from './scope.js';

/** Places people delete to save space (caches, lists, temp files, docs, downloaded archives). */
const BULKY = /^(\/var\/lib\/apt\/lists|\/var\/cache|\/tmp|\/var\/tmp|\/root\/\.cache|\/root\/\.npm|~\/\.cache|\$HOME\/\.cache|\/usr\/share\/(doc|man|info|locale)|\/usr\/local\/share\/\.cache|\/var\/log)(\/|$)|\.(tar|tgz|tar\.gz|tar\.xz|zip|deb|rpm|whl|apk)$/;

/** A command that removes things to make the image smaller (not, say, a config file it replaces). */
function sizeCleanup(t: ToolInvocation): boolean {
  if (!isCleanup(t)) return false;
  if (t.tool !== 'rm') return true;
  return t.operands.length > 0 && t.operands.every((w) => BULKY.test(w.value.replace(/\/\*$/, '')));
}

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
        if (cmds.length > 0 && run.tools.length === cmds.length && run.tools.every(sizeCleanup)) {
          out.push({ message: `this RUN only deletes files (${cmds.map((c) => c.argv.slice(0, 2).map((w) => w.value).join(' ')).join(', ')}); the bytes stay in the earlier layer (or base image) that created them`, span: ctx.facts.keywordSpan(ins) });
        }
      }
    }
    return out;
  },
};

export const cleanupRules: Rule[] = [cleanupLayer];
