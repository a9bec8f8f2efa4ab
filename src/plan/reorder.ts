/**
 * Orders a stage's steps from least to most frequently changing, only where the result is provably
 * the same image. A layer is rebuilt whenever any step below it changes, so a dependency install
 * placed after `COPY . .` is rebuilt on every code change, and a LABEL with a version near the top
 * rebuilds everything under it. Three moves, each with the conditions that make it safe:
 *
 * 1. Manifest hoist: `COPY . D` ... `RUN <install from manifests>` becomes `COPY <manifests> D/`,
 *    `RUN <install>`, `COPY . D`. Only for installs that read nothing but their manifests and write
 *    nothing into D (pip install -r with plain requirement files, npm ci, yarn --frozen-lockfile /
 *    --immutable, pnpm --frozen-lockfile, go mod download), checked against the build context: no
 *    lifecycle scripts, workspaces, local paths or node_modules in the context; and only across
 *    metadata steps that cannot change what a RUN sees.
 * 2. Package hoist: `COPY files D` then `RUN apt-get/apk/pip install <named packages>` swap when the
 *    install reads no build-context file and D is an application folder (not under /usr, /etc, /var,
 *    /opt, /home, ...), so neither step can see or overwrite the other's files.
 * 3. Metadata last: LABEL and EXPOSE without variables change only the image config; they move after
 *    the stage's last layer step.
 *
 * Everything else keeps its order: a RUN may depend on any file or side effect before it, and the
 * planner does not guess. Refused candidates are reported with the reason.
 */
import type { Dockerfile, Instruction } from '../dockerfile/model.js';
import { parseShell } from '../dockerfile/shell.js';
import { optionValues, recogniseCommand, type ToolInvocation } from '../dockerfile/commands.js';
import { splitWords } from '../dockerfile/variables.js';
import { posixJoin } from '../dockerfile/parse.js';
import type { BuildContext } from './context.js';
import { absoluteDestination, contextCopyWhat, flagKey, oneLine } from './normalize.js';
import type { ReorderNote, Step } from './model.js';

/** Instructions that change neither the filesystem nor what a later RUN sees. */
const INERT = new Set(['EXPOSE', 'LABEL', 'CMD', 'ENTRYPOINT', 'HEALTHCHECK', 'STOPSIGNAL', 'MAINTAINER']);
/** Top-level folders package managers and the OS write to; an application COPY must stay out of them. */
const SYSTEM_DIRS = new Set(['usr', 'etc', 'var', 'lib', 'lib32', 'lib64', 'libx32', 'bin', 'sbin', 'opt', 'root', 'home', 'run', 'tmp', 'proc', 'sys', 'dev', 'boot', 'mnt', 'media', 'srv', 'nix']);
const LIFECYCLE_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepare', 'preprepare', 'postprepare', 'prepublish'];
/** Environment variables that point an install somewhere else. */
const INSTALL_DIR_ENV = ['PIP_TARGET', 'PIP_PREFIX', 'PIP_SRC', 'npm_config_prefix', 'NPM_CONFIG_PREFIX', 'GOPATH', 'GOMODCACHE', 'GOFLAGS'];

export interface ReorderInput {
  service: string;
  stage: number;
  df: Dockerfile;
  steps: readonly Step[];
  context: BuildContext | undefined;
}

type Verdict = { ok: true; manifests: string[]; what: string } | { ok: false; reason: string };

const instructionOf = (df: Dockerfile, s: Step): Instruction | undefined => (s.origin === undefined ? undefined : df.instructions[s.origin]);

function under(p: string, dir: string): boolean {
  const d = dir.endsWith('/') ? dir : dir + '/';
  return p === dir.replace(/\/$/, '') || p.startsWith(d);
}

/** Only `&&`, `;` and newlines: every command runs in order, none in a subshell or pipeline. */
function simpleSequence(script: string): { invocations: (ToolInvocation | undefined)[]; argv: string[][] } | undefined {
  const sh = parseShell(script);
  if (sh.unterminated || sh.operators.some((o) => o.op !== '&&' && o.op !== ';' && o.op !== '\n')) return undefined;
  if (sh.commands.some((c) => c.reserved.length || c.redirects.length || c.argv.some((w) => w.dynamic))) return undefined;
  return { invocations: sh.commands.map((c) => recogniseCommand(c)), argv: sh.commands.map((c) => c.argv.map((w) => w.value)) };
}

/** Harmless companions of an install: cache cleaning and removing system paths outside D. */
function harmless(argv: string[], dest: string): boolean {
  const [p, a, b] = argv;
  if (p === 'npm' && a === 'cache' && b === 'clean') return true;
  if (p === 'yarn' && a === 'cache' && b === 'clean') return true;
  if ((p === 'pip' || p === 'pip3') && a === 'cache' && b === 'purge') return true;
  if (p === 'rm') {
    const operands = argv.slice(1).filter((x) => !x.startsWith('-'));
    return operands.length > 0 && operands.every((o) => o.startsWith('/') && !under(o, dest) && !under(dest, o));
  }
  return false;
}

async function packageJsonProblem(ctx: BuildContext): Promise<string | undefined> {
  const text = await ctx.readSmall('package.json');
  if (text === undefined) return 'no package.json in the build context';
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return 'package.json is not valid JSON';
  }
  const scripts = (pkg.scripts ?? {}) as Record<string, unknown>;
  const life = LIFECYCLE_SCRIPTS.filter((s) => s in scripts);
  if (life.length) return `package.json has ${life.join(', ')} scripts, which may read any file`;
  if (pkg.workspaces) return 'package.json declares workspaces, whose manifests live elsewhere in the context';
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
    const deps = (pkg[field] ?? {}) as Record<string, unknown>;
    for (const [name, spec] of Object.entries(deps)) {
      if (typeof spec === 'string' && /^(file:|link:|\.|\/)/.test(spec)) return `dependency ${name} is a local path (${spec})`;
    }
  }
  if (await ctx.has('node_modules')) return 'the build context has node_modules, which `COPY .` would copy over the installed one';
  return undefined;
}

/** Whether a RUN installs dependencies from manifests only, and which manifests. */
async function manifestInstall(script: string, dest: string, ctx: BuildContext): Promise<Verdict> {
  const seq = simpleSequence(script);
  if (!seq) return { ok: false, reason: 'the script uses pipes, subshells, redirections, conditionals or run-time expansions' };
  const manifests: string[] = [];
  const what: string[] = [];
  const optional = async (...names: string[]) => {
    for (const n of names) if (await ctx.has(n)) manifests.push(n);
  };
  for (let k = 0; k < seq.argv.length; k++) {
    const inv = seq.invocations[k];
    const argv = seq.argv[k]!;
    if (harmless(argv, dest)) continue;
    if (!inv) return { ok: false, reason: `it runs ${argv[0]}, which may read any file of the context` };
    if (inv.tool === 'pip' && inv.subcommand === 'install') {
      if (inv.operands.length) return { ok: false, reason: `pip installs ${inv.operands.map((w) => w.value).join(' ')} besides requirement files` };
      const bad = inv.options.find((o) => ['-e', '--editable', '-t', '--target', '--prefix', '--root', '--src', '-f', '--find-links'].includes(o.name));
      if (bad) return { ok: false, reason: `pip ${bad.name} reads or writes local paths` };
      const files = optionValues(inv, '-r', '--requirement', '-c', '--constraint');
      if (!files.length) return { ok: false, reason: 'pip install names no requirement file' };
      for (const f of files) {
        const rel = f.startsWith('/') ? (under(f, dest) ? f.slice(dest.replace(/\/$/, '').length + 1) : undefined) : posixJoin('/', f).slice(1);
        if (rel === undefined) return { ok: false, reason: `${f} is not in the copied folder` };
        // COPY puts a file under its base name; a manifest in a subfolder would land elsewhere.
        if (rel.includes('/')) return { ok: false, reason: `${rel} is in a subfolder of the context` };
        const text = await ctx.readSmall(rel);
        if (text === undefined) return { ok: false, reason: `${rel} is not in the build context` };
        for (const raw of text.split(/\r?\n/)) {
          const line = raw.replace(/(^|\s)#.*$/, '').trim();
          if (!line) continue;
          if (/^(-r|-c|--requirement|--constraint|-e|--editable|-f|--find-links)\b/.test(line) || /^[./]/.test(line) || /^file:/.test(line) || /@\s*file:/.test(line)) {
            return { ok: false, reason: `${rel} refers to other local files (${line})` };
          }
        }
        manifests.push(rel);
      }
      what.push('pip install -r');
      continue;
    }
    if (inv.tool === 'npm' && inv.subcommand === 'install') return { ok: false, reason: 'npm install may rewrite package-lock.json; npm ci would not' };
    const frozen = (inv.tool === 'npm' && inv.subcommand === 'ci') || (inv.tool === 'yarn' && inv.subcommand === 'install' && inv.options.some((o) => o.name === '--frozen-lockfile' || o.name === '--immutable')) || (inv.tool === 'pnpm' && inv.subcommand === 'install' && inv.options.some((o) => o.name === '--frozen-lockfile'));
    if (frozen) {
      if (inv.operands.length || inv.options.some((o) => ['--prefix', '-C', '--dir', '--cwd', '--modules-folder', '-w', '--workspace', '--filter', '-F'].includes(o.name))) {
        return { ok: false, reason: `${inv.program} ${inv.subcommand} with operands or folder options` };
      }
      const problem = await packageJsonProblem(ctx);
      if (problem) return { ok: false, reason: problem };
      const lock = inv.tool === 'npm' ? ((await ctx.has('npm-shrinkwrap.json')) ? 'npm-shrinkwrap.json' : 'package-lock.json') : inv.tool === 'yarn' ? 'yarn.lock' : 'pnpm-lock.yaml';
      if (!(await ctx.has(lock))) return { ok: false, reason: `no ${lock} in the build context` };
      if (inv.tool === 'yarn' && ((await ctx.has('.yarnrc.yml')) || (await ctx.has('.yarn')))) return { ok: false, reason: 'Yarn 2+ reads .yarnrc.yml and .yarn/' };
      if (inv.tool === 'pnpm' && (await ctx.has('pnpm-workspace.yaml'))) return { ok: false, reason: 'a pnpm workspace reads every package manifest' };
      if (!manifests.includes('package.json')) manifests.push('package.json', lock);
      await optional('.npmrc', ...(inv.tool === 'yarn' ? ['.yarnrc'] : []));
      what.push(`${inv.program} ${inv.subcommand}`);
      continue;
    }
    if (inv.tool === 'go' && inv.subcommand === 'mod' && inv.operands[0]?.value === 'download' && inv.operands.length === 1) {
      const gomod = await ctx.readSmall('go.mod');
      if (gomod === undefined) return { ok: false, reason: 'no go.mod in the build context' };
      if (/=>\s*\.{1,2}\//.test(gomod)) return { ok: false, reason: 'go.mod replaces modules with local folders' };
      manifests.push('go.mod');
      await optional('go.sum');
      what.push('go mod download');
      continue;
    }
    return { ok: false, reason: `${inv.program}${inv.subcommand ? ' ' + inv.subcommand : ''} may read any file of the context` };
  }
  if (!what.length) return { ok: false, reason: 'it installs nothing from a manifest' };
  return { ok: true, manifests: [...new Set(manifests)], what: what.join(', ') };
}

/** Whether a RUN only installs named packages from registries: reads nothing from the context, writes only system folders. */
function namedPackageInstall(script: string): boolean {
  const seq = simpleSequence(script);
  if (!seq) return false;
  let installs = 0;
  for (let k = 0; k < seq.argv.length; k++) {
    const inv = seq.invocations[k];
    const argv = seq.argv[k]!;
    if (!inv) return false;
    if (inv.tool === 'apt-get' && (inv.subcommand === 'update' || inv.subcommand === 'clean')) continue;
    if (inv.tool === 'rm' && inv.operands.every((o) => /^\/(var\/lib\/apt\/lists|var\/cache|tmp|root\/\.cache)(\/|$)/.test(o.value))) continue;
    const named = inv.operands.length > 0 && inv.operands.every((o) => /^[A-Za-z0-9][A-Za-z0-9._+:~=<>!,-]*$/.test(o.value) && !/\.(whl|tar\.gz|zip|deb|apk|rpm)$/.test(o.value));
    const safeOptions = inv.options.every((o) => o.value === undefined || !/^[./]|\//.test(o.value) || /^https?:\/\//.test(o.value));
    const pathOptions = inv.options.some((o) => ['-r', '--requirement', '-c', '--constraint', '-e', '--editable', '-t', '--target', '--prefix', '--root', '--user', '-f', '--find-links', '--allow-untrusted', '-X', '--repository'].includes(o.name));
    if ((inv.tool === 'apt-get' && inv.subcommand === 'install') || (inv.tool === 'apk' && inv.subcommand === 'add') || (inv.tool === 'pip' && inv.subcommand === 'install')) {
      if (!named || !safeOptions || pathOptions) return false;
      installs++;
      continue;
    }
    return false;
  }
  return installs > 0;
}

/** The size of the layer tar a COPY of these files makes: a header per entry, data in 512-byte blocks, the folder entries and the end marker. */
async function tarSizeOf(ctx: BuildContext, sources: readonly string[], dest: string): Promise<number> {
  let size = 1024 + 512 * dest.split('/').filter((p) => p).length;
  for (const e of await ctx.sourceEntries(sources)) size += 512 + Math.ceil(e.size / 512) * 512;
  return size;
}

function copyDestination(ins: Instruction): string {
  return absoluteDestination(ins.copy!.destination, ins.workdir);
}

/** The destination word as written, made a folder (`.` -> `./`): a COPY of several files needs a trailing slash. */
function destinationWord(ins: Instruction, escape: string): string {
  const words = splitWords(ins.args, escape);
  const last = words[words.length - 1]?.text ?? './';
  if (last === '.') return './';
  return last.endsWith('/') ? last : last + '/';
}

function flagsText(ins: Instruction): string {
  return ins.flags.filter((f) => f.name !== 'from').map((f) => (f.value === null ? `--${f.name}` : `--${f.name}=${f.value}`)).join(' ');
}

/** Reorders one stage; returns the new step list and what was (or was not) moved. */
export async function reorderStage(input: ReorderInput): Promise<{ steps: Step[]; notes: ReorderNote[] }> {
  const { df, service, stage, context } = input;
  let steps = [...input.steps];
  const notes: ReorderNote[] = [];
  const note = (applied: boolean, moved: Step[], reason: string) => notes.push({ service, stage, applied, steps: moved.map((s) => s.text), reason });

  // 1. Manifest hoist.
  for (let i = 1; i < steps.length; i++) {
    const copy = steps[i]!;
    const ins = instructionOf(df, copy);
    if (copy.keyword !== 'COPY' || !ins?.copy || ins.copy.from !== undefined || copy.contextSources?.length !== 1 || !['.', './'].includes(copy.contextSources[0]!)) continue;
    let j = i + 1;
    while (j < steps.length && INERT.has(steps[j]!.keyword)) j++;
    const run = steps[j];
    const runIns = run && instructionOf(df, run);
    if (!run || run.keyword !== 'RUN' || !runIns?.command || runIns.command.form !== 'shell') continue;
    const dest = copyDestination(ins).replace(/\/$/, '') || '/';
    const verdict: Verdict = !context
      ? { ok: false, reason: 'the build context is not available to check what the install reads' }
      : runIns.workdir !== dest
        ? { ok: false, reason: `the install runs in ${runIns.workdir}, not in ${dest} where the files were copied` }
        : runIns.flags.some((f) => f.name === 'mount')
          ? { ok: false, reason: 'RUN --mount may read files from elsewhere' }
          : INSTALL_DIR_ENV.some((n) => runIns.scope.get(n)?.value !== undefined)
            ? { ok: false, reason: `${INSTALL_DIR_ENV.find((n) => runIns.scope.get(n)?.value !== undefined)} is set and may point the install into the copied folder` }
            : await manifestInstall(runIns.command.script, dest, context);
    if (!verdict.ok) {
      if (run.category === 'dependencies') note(false, [run], `${oneLine(run.text)} stays after \`${oneLine(copy.text)}\`: ${verdict.reason}`);
      continue;
    }
    const digest = await context!.sourcesDigest(verdict.manifests);
    const text = ['COPY', flagsText(ins), ...verdict.manifests, destinationWord(ins, df.escape)].filter((x) => x).join(' ');
    const manifestCopy: Step = {
      keyword: 'COPY',
      key: `COPY ${flagKey(ins, ['from'], df.escape).join(' ')} ${contextCopyWhat(verdict.manifests, digest, `${service}#${ins.index}.manifests`)} dest=${dest === '/' ? '/' : dest + '/'}`.replace(/ +/g, ' '),
      text,
      comments: [],
      layer: true,
      category: 'manifests',
      tools: [],
      origin: undefined,
      contextSources: verdict.manifests,
      contextTarSize: await tarSizeOf(context!, verdict.manifests, dest),
    };
    steps = [...steps.slice(0, i), manifestCopy, run, ...steps.slice(i, j), ...steps.slice(j + 1)];
    note(true, [manifestCopy, run], `${verdict.what} reads only ${verdict.manifests.join(', ')}: copied and installed before \`${oneLine(copy.text)}\`, so a code change no longer reinstalls dependencies`);
    i += 2;
  }

  // 2. Package hoist: a registry install moves above application COPYs it cannot see.
  for (let j = 2; j < steps.length; j++) {
    const run = steps[j]!;
    const runIns = instructionOf(df, run);
    if (run.keyword !== 'RUN' || !runIns?.command || runIns.command.form !== 'shell' || runIns.flags.length || !namedPackageInstall(runIns.command.script)) continue;
    let i = j;
    while (i - 1 >= 1) {
      const prev = steps[i - 1]!;
      const prevIns = instructionOf(df, prev);
      if (INERT.has(prev.keyword)) {
        i--;
        continue;
      }
      if ((prev.keyword !== 'COPY' && prev.keyword !== 'ADD') || !prev.contextSources || (prev.keyword === 'ADD' && prev.contextSources.some((s) => /\.(tar|tgz|gz|bz2|xz|zst)$/.test(s)))) break;
      const dest = prevIns ? copyDestination(prevIns) : undefined;
      const top = dest?.split('/')[1];
      if (!dest || !top || SYSTEM_DIRS.has(top) || prev.origin === undefined) break;
      i--;
    }
    while (i < j && INERT.has(steps[i]!.keyword)) i++;
    if (i === j) continue;
    const moved = steps.slice(i, j).filter((s) => !INERT.has(s.keyword));
    steps = [...steps.slice(0, i), run, ...steps.slice(i, j), ...steps.slice(j + 1)];
    note(true, [run], `${oneLine(run.text)} installs named packages and reads no build-context file: moved before ${moved.map((s) => '`' + oneLine(s.text) + '`').join(', ')}, which change more often`);
  }

  // 3. Metadata last.
  const lastLayer = steps.reduce((at, s, k) => (s.layer ? k : at), -1);
  const meta = steps.filter((s, k) => k > 0 && k < lastLayer && (s.keyword === 'LABEL' || s.keyword === 'EXPOSE') && !s.text.includes('$'));
  if (meta.length) {
    steps = [...steps.filter((s) => !meta.includes(s)), ...meta];
    note(true, meta, 'LABEL and EXPOSE change only the image config: moved after the last layer step, so a new value rebuilds no layer and the steps before can be shared');
  }
  return { steps, notes };
}
