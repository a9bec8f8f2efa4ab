/** LW001: what Docker itself would refuse. */
import type { RawFinding, Rule } from '../types.js';

export const syntax: Rule = {
  meta: {
    id: 'LW001', name: 'dockerfile-syntax', severity: 'error', category: 'syntax', fixable: false,
    title: 'Dockerfile syntax problem',
    why: 'Docker refuses the Dockerfile (or builds something other than it appears to say), and the other rules can only guess.',
    fix: 'Correct the instruction as the message says.',
  },
  check: ({ dockerfile }) => {
    const out: RawFinding[] = dockerfile.problems.map((p) => ({ message: p.message, ...(p.span.start.offset === p.span.end.offset && p.span.start.offset === 0 ? {} : { span: p.span }) }));
    for (const s of dockerfile.stages) {
      if (s.base.kind === 'unresolved' && s.base.problem && !s.base.problem.startsWith('no value for')) out.push({ message: s.base.problem, span: s.base.span });
    }
    return out;
  },
};

export const syntaxRules: Rule[] = [syntax];
