/** LW205: pip and uv caches. */
import { hasOption } from '../../dockerfile/commands.js';
import { Facts } from '../facts.js';
import { CACHE_PATHS, removes } from '../steps.js';
import type { RawFinding, Rule } from '../types.js';
import { insertAfter } from './edits.js';
import { optional } from './apt.js';
import { envValue, shippedRuns } from './scope.js';

export const pipCache: Rule = {
  meta: {
    id: 'LW205', name: 'pip-cache-left', severity: 'warning', category: 'packages', fixable: true,
    title: 'pip install without --no-cache-dir',
    why: 'pip keeps every downloaded wheel in ~/.cache/pip; in an image that cache is never used again and often as large as the installed packages (PyTorch: gigabytes).',
    fix: 'Add --no-cache-dir (or ENV PIP_NO_CACHE_DIR=1), or use RUN --mount=type=cache,target=/root/.cache/pip to keep the cache out of the layer and still reuse it between builds.',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const run of shippedRuns(ctx)) {
      for (const t of run.tools) {
        const isPip = t.tool === 'pip' && t.subcommand === 'install';
        const isUv = t.tool === 'uv' && ((t.subcommand === 'pip' && t.operands[0]?.value === 'install') || t.subcommand === 'sync' || t.subcommand === 'add');
        if (!isPip && !isUv) continue;
        if (isPip) {
          if (hasOption(t, '--no-cache-dir') || envValue(run, t.env, 'PIP_NO_CACHE_DIR')) continue;
          if (Facts.mounted(run, ['/root/.cache/pip']) || run.tools.some((x) => removes(x, CACHE_PATHS.pip) || (x.tool === 'pip' && x.subcommand === 'cache' && x.operands[0]?.value === 'purge'))) continue;
          out.push({
            message: `\`${t.program === 'python' || /^python/.test(t.program) ? 'python -m pip' : t.program} install\` without --no-cache-dir leaves its download cache in the layer`,
            span: ctx.facts.wordSpan(run.instruction, t.subcommandWord, t.nested),
            ...optional(insertAfter(ctx.facts, run, t.subcommandWord, '--no-cache-dir', t.nested)),
          });
        } else {
          if (hasOption(t, '--no-cache', '-n') || envValue(run, t.env, 'UV_NO_CACHE')) continue;
          if (Facts.mounted(run, ['/root/.cache/uv']) || run.tools.some((x) => removes(x, CACHE_PATHS.uv) || (x.tool === 'uv' && x.subcommand === 'cache'))) continue;
          out.push({ message: '`uv` without --no-cache (or UV_NO_CACHE=1, or a cache mount on /root/.cache/uv) leaves its cache in the layer', span: ctx.facts.wordSpan(run.instruction, t.subcommandWord, t.nested) });
        }
      }
    }
    return out;
  },
};

export const pythonRules: Rule[] = [pipCache];
