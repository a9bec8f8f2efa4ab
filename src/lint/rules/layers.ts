/** LW301-LW304: layer count and build-cache order. */
import type { Instruction } from '../../dockerfile/model.js';
import { isBroadCopy } from '../copies.js';
import type { Facts, RunFacts } from '../facts.js';
import { dependencyStep, isOsInstall, namedInstall, type DependencyStep, type Ecosystem } from '../steps.js';
import type { Edit, RawFinding, Rule, RuleContext } from '../types.js';
import { optional } from './apt.js';
import { posixShell } from './edits.js';
import { shippedStages } from './scope.js';

/** Builtins whose effect carries over to the next command of the same shell (so merging RUNs would change meaning). */
const STATEFUL = new Set(['cd', 'pushd', 'popd', 'set', 'export', 'unset', 'umask', 'source', '.', 'alias', 'unalias', 'ulimit', 'shopt', 'exec', 'exit', 'trap', 'readonly', 'declare', 'local', 'typeset', 'shift', 'eval', 'hash', 'enable', 'return']);

function flagsKey(ins: Instruction): string {
  return JSON.stringify(ins.flags.map((f) => [f.name, f.value]));
}

/** Top-level control operators (outside parentheses and braces). */
function topLevelOperators(run: RunFacts): string[] {
  let depth = 0;
  const out: string[] = [];
  for (const o of run.script.operators) {
    if (o.op === '(') depth++;
    else if (o.op === ')') depth = Math.max(0, depth - 1);
    else if (depth === 0) out.push(o.op);
  }
  for (const c of run.script.commands) {
    if (c.reserved.includes('{') || c.reserved.includes('}')) return ['{'];
  }
  return out;
}

/**
 * Merges `second` into `first` as `first && second` when that runs the same commands with the same
 * outcome: same flags, shell form both, nothing in `first` that changes the shell's state, `second`
 * a plain && chain (so a failure in `first` still fails the build), only blanks between them.
 */
function mergeEdit(facts: Facts, first: RunFacts, second: RunFacts): Edit[] | undefined {
  const a = first.instruction;
  const b = second.instruction;
  if (a.command?.form !== 'shell' || b.command?.form !== 'shell' || !first.editable || !second.editable) return undefined;
  if (first.script.unterminated || second.script.unterminated || b.argsOffset === undefined || !posixShell(a.command.shell)) return undefined;
  const text = facts.dockerfile.text;
  if (text.slice(a.span.end.offset, b.span.start.offset).trim() !== '') return undefined;
  if (first.script.commands.some((c) => (c.argv.length === 0 && c.assignments.length > 0) || STATEFUL.has(c.argv[0]?.value ?? ''))) return undefined;
  if (topLevelOperators(first).some((op) => op === '&' || op === '{')) return undefined;
  if (topLevelOperators(second).some((op) => op !== '&&' && op !== '|')) return undefined;
  const cmds = first.script.commands;
  const last = cmds[cmds.length - 1];
  if (!last || last.after !== undefined) return undefined;
  if (first.script.comments.some((k) => k.end > last.end) || a.command.script.slice(last.end).trim() !== '') return undefined;
  const end = facts.offset(a, last.end - 1);
  const start = b.command.sourceOffsets?.[0];
  if (end === undefined || start === undefined) return undefined;
  return [{ start: end + 1, end: start, text: ` ${facts.dockerfile.escape}\n    && ` }];
}

export const consecutiveRuns: Rule = {
  meta: {
    id: 'LW301', name: 'consecutive-run', severity: 'info', category: 'layers', fixable: true,
    title: 'Consecutive RUN instructions that could be one',
    why: 'Every RUN adds a layer: more layers to pull and unpack, and files created in one RUN and deleted in the next still ship in the first.',
    fix: 'Join them with && in one RUN (`--fix` does it when the meaning cannot change), keeping separate RUNs only where a different cache lifetime is intended.',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const stage of shippedStages(ctx)) {
      const ins = stage.instructions;
      for (let k = 1; k < ins.length; k++) {
        const a = ctx.facts.run(ins[k - 1]!);
        const b = ctx.facts.run(ins[k]!);
        if (!a || !b || flagsKey(a.instruction) !== flagsKey(b.instruction)) continue;
        out.push({
          message: `RUN follows another RUN (line ${a.instruction.span.start.line}); one RUN makes one layer`,
          span: ctx.facts.keywordSpan(b.instruction),
          ...optional(mergeEdit(ctx.facts, a, b)),
        });
      }
    }
    return out;
  },
};

/** A COPY that copies the project's source: a broad context COPY, or COPY --from a stage that did one. */
function sourceCopy(ctx: RuleContext, ins: Instruction): boolean {
  if (isBroadCopy(ins, ctx.context)) return true;
  const from = ins.copy?.fromStage;
  if (from === undefined) return false;
  const stage = ctx.dockerfile.stages[from];
  return !!stage && ctx.facts.chainInstructions(stage).some((i) => isBroadCopy(i, ctx.context));
}

function describeCopy(ins: Instruction): string {
  return `${ins.keyword} ${ins.args.length > 40 ? ins.args.slice(0, 37) + '...' : ins.args}`;
}

function describeStep(step: DependencyStep): string {
  const inv = step.invocation;
  const words = inv.command.argv.map((w) => w.value);
  const at = words.indexOf(inv.programWord.value);
  const shown = words.slice(Math.max(0, at), Math.max(0, at) + 4).join(' ');
  return shown.length > 50 ? shown.slice(0, 47) + '...' : shown;
}

const MANIFEST_HINT: Record<Ecosystem, string> = {
  python: 'requirements.txt (or pyproject.toml + poetry.lock / uv.lock)',
  node: 'package.json and the lockfile',
  go: 'go.mod and go.sum',
  ruby: 'Gemfile and Gemfile.lock',
  maven: 'pom.xml (then RUN mvn dependency:go-offline)',
  gradle: 'build.gradle and settings.gradle (then RUN gradle dependencies)',
  rust: 'Cargo.toml and Cargo.lock (then cargo fetch)',
  php: 'composer.json and composer.lock',
};

function manifestsFor(step: DependencyStep): string {
  if (step.ecosystem === 'python' && step.manifests.length && !step.manifests.includes('setup.py')) return step.manifests.join(' and ');
  return MANIFEST_HINT[step.ecosystem];
}

export const sourceBeforeDeps: Rule = {
  meta: {
    id: 'LW302', name: 'source-before-dependencies', severity: 'warning', category: 'layers', fixable: false,
    title: 'Source copied before the dependencies are installed',
    why: 'A COPY layer is rebuilt whenever any copied file changes, and so is every step after it: with the whole source copied first, each code change reinstalls all dependencies from scratch.',
    fix: 'Copy only the dependency manifest and lockfile, install, then copy the rest: COPY requirements.txt . / RUN pip install -r requirements.txt / COPY . .',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    const reported = new Set<number>();
    for (const stage of ctx.dockerfile.stages) {
      const copies: Instruction[] = [];
      const depsOnly = new Set<Ecosystem>();
      for (const ins of ctx.facts.chainInstructions(stage)) {
        if (sourceCopy(ctx, ins)) copies.push(ins);
        const run = ctx.facts.run(ins);
        if (!run) continue;
        for (const t of run.tools) {
          const step = dependencyStep(t);
          if (!step) continue;
          const late = copies.length > 0 && (step.depsOnly || !depsOnly.has(step.ecosystem));
          if (step.depsOnly) depsOnly.add(step.ecosystem);
          if (!late || reported.has(copies[0]!.index)) continue;
          const c = copies[0]!;
          reported.add(c.index);
          out.push({
            message: `\`${describeCopy(c)}\` comes before \`${describeStep(step)}\` (line ${ins.span.start.line}): every source change reinstalls all dependencies; copy ${manifestsFor(step)} first and install before copying the rest`,
            span: ctx.facts.firstLineSpan(c),
          });
        }
      }
    }
    return out;
  },
};

export const installAfterSource: Rule = {
  meta: {
    id: 'LW303', name: 'install-after-source', severity: 'warning', category: 'layers', fixable: false,
    title: 'Packages installed after the source is copied',
    why: 'Order instructions from least to most frequently changing: an install placed after COPY of the source runs again on every code change although it does not use the code.',
    fix: 'Move OS package installs and tool installs (apt-get, apk, pip install <tool>, npm -g) above the COPY of the source.',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const stage of ctx.dockerfile.stages) {
      let copied: Instruction | undefined;
      for (const ins of ctx.facts.chainInstructions(stage)) {
        if (!copied && sourceCopy(ctx, ins)) copied = ins;
        if (ins.stage !== stage.index || !copied) continue;
        const run = ctx.facts.run(ins);
        if (!run) continue;
        const t = run.tools.find((x) => isOsInstall(x) || namedInstall(x));
        if (!t) continue;
        out.push({
          message: `\`${t.program} ${t.subcommand ?? ''}\` runs after \`${describeCopy(copied)}\` (line ${copied.span.start.line}), so every source change reinstalls it; move it above that COPY`,
          span: ctx.facts.wordSpan(ins, t.subcommandWord ?? t.programWord, t.nested),
        });
      }
    }
    return out;
  },
};

const VOLATILE = /^(BUILD_(DATE|TIME|TIMESTAMP|ID|NUMBER)|BUILDTIME|TIMESTAMP|DATE|(GIT|VCS|SOURCE|SCM)_(COMMIT|SHA|REF|REVISION|BRANCH|TAG|HASH)|COMMIT(_SHA|_HASH|_ID)?|REVISION|GIT_DESCRIBE|CI_COMMIT_SHA|CI_PIPELINE_ID|GITHUB_SHA|GITHUB_RUN_ID|CACHEBUST|CACHE_BUST|CACHE_DATE|APP_VERSION|RELEASE|RELEASE_VERSION)$/i;

function references(run: RunFacts, name: string): boolean {
  return new RegExp(`\\$(\\{)?${name}\\b`).test(run.instruction.command?.script ?? '');
}

export const volatileArg: Rule = {
  meta: {
    id: 'LW304', name: 'volatile-arg-early', severity: 'info', category: 'layers', fixable: false,
    title: 'Per-build value declared before install steps',
    why: 'Every RUN after an ARG sees it in its environment, so when the value changes on each build (a date, a commit) the cache misses from the first RUN after it, installs included.',
    fix: 'Declare such ARGs late, after the install steps, right before the LABEL or RUN that uses them.',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const stage of ctx.dockerfile.stages) {
      const active: { ins: Instruction; name: string }[] = [];
      for (const ins of stage.instructions) {
        if (ins.keyword === 'ARG') for (const v of ins.variables ?? []) if (VOLATILE.test(v.name)) active.push({ ins, name: v.name });
        const run = ctx.facts.run(ins);
        if (!run || !active.length) continue;
        if (!run.tools.some((t) => isOsInstall(t) || dependencyStep(t) || namedInstall(t))) continue;
        for (const a of active.splice(0)) {
          if (references(run, a.name)) continue;
          out.push({ message: `ARG ${a.name} changes on every build and invalidates the cache of the install at line ${ins.span.start.line}; declare it after the install steps`, span: ctx.facts.firstLineSpan(a.ins) });
        }
      }
    }
    return out;
  },
};

export const layerRules: Rule[] = [consecutiveRuns, sourceBeforeDeps, installAfterSource, volatileArg];
