/** Which stages a rule looks at: size rules only care about stages whose layers end up in the image. */
import type { Stage } from '../../dockerfile/model.js';
import type { Facts, RunFacts } from '../facts.js';
import type { RuleContext } from '../types.js';

/** The final stage and the stages it is built FROM: their layers are the image's layers. */
export function shippedStages(ctx: RuleContext): Stage[] {
  return ctx.facts.finalStage ? ctx.facts.chain(ctx.facts.finalStage).reverse() : [];
}

export function shippedRuns(ctx: RuleContext): RunFacts[] {
  return shippedStages(ctx).flatMap((s) => ctx.facts.stageRuns(s));
}

export function allRuns(facts: Facts): RunFacts[] {
  return facts.dockerfile.stages.flatMap((s) => facts.stageRuns(s));
}

/** The value of an environment variable for a command: its own assignments first, then ENV/ARG. */
export function envValue(run: RunFacts, env: ReadonlyMap<string, string>, name: string): string | undefined {
  return env.get(name) ?? run.instruction.scope.get(name)?.value;
}
