/** LW601-LW605: dependency versions that move between builds of the same commit. */
import path from 'node:path';
import { optionValues, type ToolInvocation } from '../../dockerfile/commands.js';
import type { Instruction, Stage } from '../../dockerfile/model.js';
import { bindMountCopies, contextPathFor, isContextCopy, normaliseSource } from '../copies.js';
import type { RunFacts } from '../facts.js';
import { parseRequirements, pipSpecPinned, type Requirement } from '../requirements.js';
import { namedInstall } from '../steps.js';
import type { RawFinding, Rule, RuleContext } from '../types.js';
import { envValue } from './scope.js';

const TRANSITIVE = 'pinning only your direct dependencies still lets their dependencies move';

interface RunInStage {
  run: RunFacts;
  stage: Stage;
  /** COPY/ADD from the context that ran before this RUN in its stage chain. */
  copies: Instruction[];
}

function runsWithCopies(ctx: RuleContext): RunInStage[] {
  const out: RunInStage[] = [];
  for (const stage of ctx.dockerfile.stages) {
    const copies: Instruction[] = [];
    for (const ins of ctx.facts.chainInstructions(stage)) {
      if (isContextCopy(ins)) copies.push(ins);
      if (ins.stage !== stage.index) continue;
      const run = ctx.facts.run(ins);
      if (run) out.push({ run, stage, copies: [...copies, ...bindMountCopies(ins)] });
    }
  }
  return out;
}

/** The context file a path used inside the image came from (via the COPYs before), or the same relative path in the context. */
function contextFile(ctx: RuleContext, r: RunInStage, file: string): string | undefined {
  if (!ctx.context) return undefined;
  const imagePath = path.posix.resolve(r.run.instruction.workdir, file);
  const viaCopy = contextPathFor(imagePath, r.copies, ctx.context);
  if (viaCopy !== undefined) return viaCopy;
  const rel = normaliseSource(file);
  return ctx.context.texts.has(rel) || ctx.context.manifests.has(rel) ? rel : undefined;
}

interface ReadRequirements {
  requirements: Requirement[];
  constrained: boolean;
  generatedLock: boolean;
  /** The file each requirement came from (for includes). */
  fileOf: Map<Requirement, string>;
}

function readRequirements(ctx: RuleContext, rel: string, depth = 0, seen = new Set<string>()): ReadRequirements | undefined {
  const text = ctx.context?.texts.get(rel);
  if (text === undefined || seen.has(rel)) return undefined;
  seen.add(rel);
  const f = parseRequirements(text);
  const out: ReadRequirements = { requirements: [...f.requirements], constrained: f.constraints.length > 0, generatedLock: f.generatedLock, fileOf: new Map(f.requirements.map((r) => [r, rel])) };
  if (depth < 5) {
    for (const inc of f.includes) {
      const sub = readRequirements(ctx, path.posix.join(path.posix.dirname(rel), inc), depth + 1, seen);
      if (!sub) continue;
      out.requirements.push(...sub.requirements);
      out.constrained ||= sub.constrained;
      out.generatedLock &&= sub.generatedLock;
      for (const [k, v] of sub.fileOf) out.fileOf.set(k, v);
    }
  }
  return out;
}

function isPipInstall(t: ToolInvocation): boolean {
  return (t.tool === 'pip' && t.subcommand === 'install') || (t.tool === 'uv' && t.subcommand === 'pip' && t.operands[0]?.value === 'install');
}

function pipRequirementFiles(ctx: RuleContext): { r: RunInStage; t: ToolInvocation; rel: string; data: ReadRequirements; constrained: boolean }[] {
  const out: ReturnType<typeof pipRequirementFiles> = [];
  const seen = new Set<string>();
  for (const r of runsWithCopies(ctx)) {
    for (const t of r.run.tools) {
      if (!isPipInstall(t)) continue;
      const constrained = optionValues(t, '-c', '--constraint', '--constraints').length > 0 || !!envValue(r.run, t.env, 'PIP_CONSTRAINT') || !!envValue(r.run, t.env, 'UV_CONSTRAINT');
      for (const file of optionValues(t, '-r', '--requirement')) {
        const rel = contextFile(ctx, r, file);
        if (rel === undefined || seen.has(rel)) continue;
        const data = readRequirements(ctx, rel);
        if (!data) continue;
        seen.add(rel);
        out.push({ r, t, rel, data, constrained: constrained || data.constrained });
      }
    }
  }
  return out;
}

export const floatingRequirements: Rule = {
  meta: {
    id: 'LW601', name: 'requirements-not-pinned', severity: 'warning', category: 'drift', fixable: false,
    title: 'Requirements with unpinned or ranged versions and no lock or constraints file',
    why: `flask>=2 or a bare flask installs whatever is newest on the day of the build, so two builds of the same commit ship different code; and ${TRANSITIVE}.`,
    fix: 'Compile a lock with hashes (pip-compile --generate-hashes requirements.in, or uv pip compile) and install that, or pass a full constraints file with -c.',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const { r, rel, data, constrained } of pipRequirementFiles(ctx)) {
      if (constrained) continue;
      const floating = data.requirements.filter((q) => !q.pinned);
      if (!floating.length) continue;
      const first = floating[0]!;
      const shown = floating.slice(0, 4).map((q) => q.name + (q.spec ? q.spec : '')).join(', ');
      out.push({
        message: `${rel} (installed at line ${r.run.instruction.span.start.line}) has ${floating.length} requirement(s) without an exact version: ${shown}${floating.length > 4 ? ', ...' : ''}; every build can install different versions`,
        file: data.fileOf.get(first) ?? rel,
        fileLine: first.line,
      });
    }
    return out;
  },
};

export const topLevelOnly: Rule = {
  meta: {
    id: 'LW602', name: 'requirements-top-level-only', severity: 'info', category: 'drift', fixable: false,
    title: 'Requirements pin only the direct dependencies',
    why: `Every listed package has ==, but nothing fixes the versions of their own dependencies: ${TRANSITIVE}, so rebuilds drift anyway.`,
    fix: 'Generate the file with a lock tool that lists every transitive package (pip-compile / uv pip compile, ideally with --generate-hashes), or add a constraints file from pip freeze.',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const { rel, data, constrained } of pipRequirementFiles(ctx)) {
      if (constrained || data.generatedLock || !data.requirements.length) continue;
      if (data.requirements.some((q) => !q.pinned)) continue;
      if (data.requirements.every((q) => q.hashed)) continue;
      out.push({ message: `${rel} pins ${data.requirements.length} package(s) with == but is not a complete lock (no hashes, no pip-compile/uv header, no "# via" lines)`, file: rel });
    }
    return out;
  },
};

function npmPinned(spec: string): boolean {
  const at = spec.lastIndexOf('@');
  if (at <= 0) return false;
  return /^v?\d+\.\d+\.\d+([-+][\w.]+)?$/.test(spec.slice(at + 1));
}

export const unpinnedInstall: Rule = {
  meta: {
    id: 'LW603', name: 'install-without-version', severity: 'warning', category: 'drift', fixable: false,
    title: 'Package installed by name without a version',
    why: `pip install flask, npm install -g typescript or gem install bundler take the newest release on the day of the build; the same Dockerfile produces different images over time (and ${TRANSITIVE}).`,
    fix: 'Pin exact versions (pip install flask==3.0.3, npm install -g typescript@5.4.5, gem install bundler -v 2.5.9), or install from a lock file.',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const r of runsWithCopies(ctx)) {
      for (const t of r.run.tools) {
        const named = namedInstall(t);
        if (!named || named.kind === 'go') continue;
        let floating: string[] = [];
        if (named.kind === 'pip') {
          if (optionValues(t, '-c', '--constraint').length || envValue(r.run, t.env, 'PIP_CONSTRAINT')) continue;
          floating = named.packages.filter((p) => !pipSpecPinned(p));
        } else if (named.kind === 'gem') {
          if (optionValues(t, '-v', '--version').length) continue;
          floating = named.packages.filter((p) => !/:\d/.test(p));
        } else if (named.kind === 'cargo') {
          if (optionValues(t, '--version').length) continue;
          floating = named.packages.filter((p) => !/@\d/.test(p));
        } else floating = named.packages.filter((p) => !npmPinned(p));
        if (!floating.length) continue;
        const word = t.operands.find((w) => floating.includes(w.value));
        out.push({
          message: `\`${t.program} ${t.subcommand}\` installs ${floating.join(', ')} without an exact version`,
          span: ctx.facts.wordSpan(r.run.instruction, word, t.nested),
        });
      }
    }
    return out;
  },
};

export const goLatest: Rule = {
  meta: {
    id: 'LW604', name: 'go-install-latest', severity: 'warning', category: 'drift', fixable: false,
    title: 'go install of @latest (or a branch)',
    why: '@latest resolves to whatever was tagged most recently when the build runs (a branch name to its newest commit), so rebuilds get different tools.',
    fix: 'Name a version: go install golang.org/x/tools/cmd/goimports@v0.24.0.',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const r of runsWithCopies(ctx)) {
      for (const t of r.run.tools) {
        if (t.tool !== 'go' || (t.subcommand !== 'install' && t.subcommand !== 'get')) continue;
        for (const w of t.operands) {
          const m = /@(latest|master|main|HEAD|upgrade|patch)$/.exec(w.value);
          if (m) out.push({ message: `\`go ${t.subcommand} ${w.value}\` resolves @${m[1]} at build time`, span: ctx.facts.wordSpan(r.run.instruction, w, t.nested) });
        }
      }
    }
    return out;
  },
};

const LOCKS: { tool: ToolInvocation['tool']; subs: string[]; manifest: string; locks: string[] }[] = [
  { tool: 'npm', subs: ['ci', 'install'], manifest: 'package.json', locks: ['package-lock.json', 'npm-shrinkwrap.json'] },
  { tool: 'yarn', subs: ['install'], manifest: 'package.json', locks: ['yarn.lock'] },
  { tool: 'pnpm', subs: ['install'], manifest: 'package.json', locks: ['pnpm-lock.yaml'] },
  { tool: 'poetry', subs: ['install', 'sync'], manifest: 'pyproject.toml', locks: ['poetry.lock'] },
  { tool: 'uv', subs: ['sync'], manifest: 'pyproject.toml', locks: ['uv.lock'] },
  { tool: 'pipenv', subs: ['install', 'sync'], manifest: 'Pipfile', locks: ['Pipfile.lock'] },
  { tool: 'bundle', subs: ['install'], manifest: 'Gemfile', locks: ['Gemfile.lock'] },
  { tool: 'composer', subs: ['install'], manifest: 'composer.json', locks: ['composer.lock'] },
  { tool: 'cargo', subs: ['build', 'fetch'], manifest: 'Cargo.toml', locks: ['Cargo.lock'] },
  { tool: 'go', subs: ['mod', 'build'], manifest: 'go.mod', locks: ['go.sum'] },
];

export const missingLockfile: Rule = {
  meta: {
    id: 'LW605', name: 'manifest-without-lockfile', severity: 'warning', category: 'drift', fixable: false,
    title: 'Dependencies installed from a manifest without its lockfile',
    why: `package.json, pyproject.toml, Gemfile and Cargo.toml hold version ranges; only the lockfile fixes exact versions of every transitive dependency. Without it in the build (missing, or not copied before the install) each build resolves the ranges again.`,
    fix: 'Commit the lockfile (package-lock.json, yarn.lock, poetry.lock, Gemfile.lock, Cargo.lock, go.sum...) and COPY it together with the manifest before the install step.',
  },
  check: (ctx) => {
    if (!ctx.context) return [];
    const out: RawFinding[] = [];
    const seen = new Set<string>();
    for (const r of runsWithCopies(ctx)) {
      for (const t of r.run.tools) {
        const spec = LOCKS.find((l) => l.tool === t.tool && l.subs.includes(t.subcommand ?? ''));
        if (!spec) continue;
        if (t.tool === 'npm' && (t.operands.length || t.options.some((o) => o.name === '-g' || o.name === '--global'))) continue;
        if (t.tool === 'go' && t.subcommand === 'mod' && t.operands[0]?.value !== 'download') continue;
        const manifest = contextFile(ctx, r, spec.manifest);
        if (manifest === undefined) continue;
        if (spec.tool === 'go' && !/^\s*require\b/m.test(ctx.context.texts.get(manifest) ?? 'require')) continue;
        const dir = path.posix.dirname(manifest);
        const inContext = spec.locks.map((l) => (dir === '.' ? l : `${dir}/${l}`)).filter((l) => ctx.context!.manifests.has(l));
        const key = `${manifest}:${t.tool}:${r.run.instruction.index}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const span = ctx.facts.wordSpan(r.run.instruction, t.subcommandWord ?? t.programWord, t.nested);
        if (!inContext.length) {
          const what = spec.tool === 'go' ? `\`go ${t.subcommand}\` cannot verify module checksums and may resolve other versions` : `\`${t.program} ${t.subcommand}\` resolves version ranges anew on every build`;
          out.push({ message: `${manifest} has no ${spec.locks.join(' or ')} beside it; ${what}`, span });
          continue;
        }
        const copied = spec.locks.some((l) => {
          const p = contextPathFor(path.posix.resolve(r.run.instruction.workdir, l), r.copies, ctx.context);
          return p !== undefined && inContext.includes(p);
        });
        if (!copied) out.push({ message: `${inContext[0]} is in the build context but not copied before \`${t.program} ${t.subcommand}\`, which then resolves versions without it`, span });
      }
    }
    return out;
  },
};

export const driftRules: Rule[] = [floatingRequirements, topLevelOnly, unpinnedInstall, goLatest, missingLockfile];
