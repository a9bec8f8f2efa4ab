/**
 * An instruction's canonical key: what it does, not how it is written. Two steps with equal keys, on
 * equal parents, make the same change, so the planner may build them once in a shared base.
 *
 * Normalised: ARG/ENV values resolved; RUN scripts re-spelled word by word (quoting, whitespace,
 * line continuations, newline vs `;`, comments); package lists of installs (apt-get, apk, yum/dnf,
 * pip, npm, yarn/pnpm add, gem, conda) sorted and de-duplicated with their options sorted, so
 * `apt-get install -y a b` and `apt-get -y install b a` are one step; `rm` operands sorted; COPY/ADD
 * keyed by the digest of the files they copy and an absolute destination. Kept apart, on purpose:
 * `&&` vs `;` (error handling differs), program names (`pip` vs `pip3` may be different Pythons),
 * anything the reader does not understand (kept verbatim). A wrong "equal" would build a service on
 * the wrong base; a missed "equal" only misses a saving.
 */
import type { Dockerfile, Instruction, Stage } from '../dockerfile/model.js';
import { expandWord, splitWords, type Lookup } from '../dockerfile/variables.js';
import { parseShell, type ShellWord, type SimpleCommand } from '../dockerfile/shell.js';
import { recogniseCommand, type ToolInvocation } from '../dockerfile/commands.js';
import { posixJoin } from '../dockerfile/parse.js';
import { normalizeImageName } from '../transports/reference.js';
import { sha256 } from '../model/digest.js';
import type { Step, StepCategory } from './model.js';
import { cleanSource } from './context.js';

export interface NormalizeContext {
  /** The service name: makes keys that must never be shared (ONBUILD, COPY --from=<stage>) unique. */
  service: string;
  /** Content digests of COPY/ADD build-context sources, by instruction index; undefined = unknown. */
  copyDigests: ReadonlyMap<number, string | undefined>;
  /** --build-arg values. */
  buildArgs?: Readonly<Record<string, string>>;
}

const LAYER_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./^-]+$/;

/** Quotes a word value for the key so that equal values print equally. */
export function quoteWord(v: string): string {
  if (v === '') return "''";
  if (SAFE_WORD.test(v)) return v;
  return "'" + v.replace(/'/g, `'\\''`) + "'";
}

const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();

/** An instruction on one line for messages: continuations joined, whitespace collapsed, long text cut. */
export function oneLine(text: string, max = 100): string {
  const t = collapse(text.replace(/\\\r?\n/g, ' '));
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}

/**
 * Substitutes `$NAME` and `${NAME}` in a word's raw text where NAME has a known value that needs no
 * quoting (so `$V`, `"$V"` and the value itself all mean the same); leaves anything else as written.
 */
function substituteKnown(raw: string, lookup: Lookup): string {
  let out = '';
  let single = false;
  let double = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (single) {
      out += c;
      if (c === "'") single = false;
      continue;
    }
    if (c === '\\' && i + 1 < raw.length) {
      out += c + raw[++i];
      continue;
    }
    if (c === "'" && !double) single = true;
    else if (c === '"') double = !double;
    else if (c === '$') {
      const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(raw.slice(i));
      if (m) {
        const v = lookup(m[1] ?? m[2]!);
        if (v !== undefined && /^[A-Za-z0-9_@%+=:,./^-]*$/.test(v)) {
          out += v;
          i += m[0].length - 1;
          continue;
        }
      }
    }
    out += c;
  }
  return out;
}

/** A word as the key spells it: its value, or (when it expands at run time) its raw text with known variables put in. */
function canonicalWord(w: ShellWord, lookup: Lookup): string {
  if (!w.dynamic) return quoteWord(w.value);
  const raw = substituteKnown(w.raw, lookup);
  if (raw === w.raw) return raw;
  const again = parseShell(raw);
  const only = again.commands.length === 1 && again.commands[0]!.argv.length === 1 && !again.commands[0]!.assignments.length ? again.commands[0]!.argv[0]! : undefined;
  return only && !only.dynamic && only.raw === raw ? quoteWord(only.value) : raw;
}

/** Installs whose operand order does not matter (package managers resolve the set). */
const SORTABLE: Readonly<Record<string, readonly string[]>> = {
  'apt-get': ['install', 'remove', 'purge'],
  apk: ['add', 'del'],
  yum: ['install', 'remove', 'erase'],
  dnf: ['install', 'remove'],
  microdnf: ['install', 'remove'],
  zypper: ['install', 'remove'],
  pip: ['install', 'uninstall', 'download'],
  npm: ['install', 'uninstall'],
  yarn: ['add', 'remove'],
  pnpm: ['add', 'remove'],
  gem: ['install'],
  conda: ['install'],
};

const OPTION_ALIASES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'apt-get': { '--yes': '-y', '--assume-yes': '-y', '--quiet': '-q' },
  apk: { '--update': '-U' },
  pip: { '--requirement': '-r', '--constraint': '-c', '--upgrade': '-U', '--quiet': '-q' },
  npm: { '--save-dev': '-D', '--global': '-g' },
  yum: { '--assumeyes': '-y' },
  dnf: { '--assumeyes': '-y' },
};

const SYSTEM_TOOLS = new Set(['apt-get', 'apk', 'yum', 'dnf', 'microdnf', 'zypper']);
const DEPENDENCY_INSTALLS: Readonly<Record<string, readonly string[]>> = {
  pip: ['install'],
  uv: ['pip', 'sync', 'install'],
  poetry: ['install'],
  pipenv: ['install', 'sync'],
  conda: ['install', 'create', 'env'],
  npm: ['install', 'ci'],
  yarn: ['install', 'add'],
  pnpm: ['install', 'add'],
  go: ['mod', 'get', 'install'],
  gem: ['install'],
  bundle: ['install'],
  cargo: ['fetch', 'install'],
  composer: ['install'],
};

function isSystemInstall(inv: ToolInvocation): boolean {
  return SYSTEM_TOOLS.has(inv.tool) && (inv.subcommand === 'install' || inv.subcommand === 'add');
}

function isDependencyInstall(inv: ToolInvocation): boolean {
  return !!inv.subcommand && !!DEPENDENCY_INSTALLS[inv.tool]?.includes(inv.subcommand);
}

/** One simple command as the key spells it. */
function canonicalCommand(cmd: SimpleCommand, lookup: Lookup): string {
  const parts: string[] = [...cmd.reserved];
  for (const a of cmd.assignments) parts.push(canonicalWord(a, lookup));
  const inv = recogniseCommand(cmd);
  const sortable = inv && !inv.nested && inv.subcommand !== undefined && SORTABLE[inv.tool]?.includes(inv.subcommand);
  if (inv && (sortable || inv.tool === 'rm')) {
    // Words before the program (wrappers such as sudo/env, `python -m`) stay as written.
    const programAt = cmd.argv.indexOf(inv.programWord);
    for (const w of cmd.argv.slice(0, programAt)) parts.push(canonicalWord(w, lookup));
    parts.push(quoteWord(inv.programWord.value));
    if (inv.subcommand !== undefined && inv.tool !== 'rm') parts.push(quoteWord(inv.subcommand));
    const aliases = OPTION_ALIASES[inv.tool] ?? {};
    const options = inv.options.map((o) => {
      const name = aliases[o.name] ?? o.name;
      const value = o.value === undefined ? undefined : o.word.dynamic ? canonicalWord(o.word, lookup) : quoteWord(o.value);
      return value === undefined ? name : `${name}=${value}`;
    });
    // A stable sort: an option given twice keeps its order (the last -o Key=... wins).
    const sorted = options.map((o, i) => ({ o, i, name: o.split('=')[0]! })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.i - b.i)).map((x) => x.o);
    parts.push(...sorted);
    parts.push(...[...new Set(inv.operands.map((w) => canonicalWord(w, lookup)))].sort());
  } else {
    for (const w of cmd.argv) parts.push(canonicalWord(w, lookup));
  }
  for (const r of cmd.redirects) parts.push(`${r.fd ?? ''}${r.op}${r.target ? canonicalWord(r.target, lookup) : ''}`);
  return parts.join(' ');
}

const OPENERS = new Set(['then', 'do', 'else', '{', '!', 'time', 'if', 'elif', 'while', 'until', '(']);

/** A shell script as the key spells it, plus the programs it runs. */
export function canonicalScript(script: string, lookup: Lookup): { key: string; invocations: ToolInvocation[] } {
  const sh = parseShell(script);
  if (sh.unterminated) return { key: 'raw ' + collapse(script), invocations: [] };
  type Item = { start: number; end: number; text: string; sep: boolean };
  const items: Item[] = [];
  for (const c of sh.commands) items.push({ start: c.start, end: c.end, text: canonicalCommand(c, lookup), sep: false });
  for (const o of sh.operators) items.push({ start: o.start, end: o.end, text: o.op === '\n' ? ';' : o.op, sep: o.op === '\n' || o.op === ';' });
  items.sort((a, b) => a.start - b.start);
  const commentAt = (i: number) => sh.comments.find((c) => i >= c.start && i < c.end);
  const gap = (from: number, to: number): string => {
    let out = '';
    for (let i = from; i < to; i++) {
      const c = commentAt(i);
      if (c) {
        i = c.end - 1;
        continue;
      }
      out += script[i];
    }
    // Shell line continuations between words are spacing; otherwise trimmed only (a heredoc body's spacing is file content).
    if (out.replace(/\\\r?\n/g, '').trim() === '') return '';
    return out.trim();
  };
  const out: string[] = [];
  const push = (text: string, sep: boolean) => {
    const last = out[out.length - 1];
    if (sep && (last === undefined || last === ';' || last === '&&' || last === '||' || last === '|' || OPENERS.has(last.split(' ').pop()!))) return;
    out.push(text);
  };
  let cursor = 0;
  for (const it of items) {
    const g = gap(cursor, it.start);
    // Text the reader did not turn into commands (a lone `fi`, heredoc bodies) stays verbatim.
    if (g) push(g, false);
    push(it.text, it.sep);
    cursor = Math.max(cursor, it.end);
  }
  const tail = gap(cursor, script.length);
  if (tail) push(tail, false);
  while (out[out.length - 1] === ';') out.pop();
  const invocations: ToolInvocation[] = [];
  for (const c of sh.commands) {
    const inv = recogniseCommand(c);
    if (inv) invocations.push(inv);
  }
  return { key: out.join(' '), invocations };
}

const MANIFEST_NAME = /(^|\/)(requirements[^/]*\.txt|constraints[^/]*\.txt|pyproject\.toml|poetry\.lock|uv\.lock|Pipfile(\.lock)?|setup\.(py|cfg)|package\.json|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|\.npmrc|go\.mod|go\.sum|Gemfile(\.lock)?|Cargo\.(toml|lock)|composer\.(json|lock))$/;
const MODEL_PATH = /(^|[/._-])(models?|weights|checkpoints?)([/._-]|$)|\.(safetensors|onnx|pt|pth|gguf|ckpt|h5|tflite|bin)$/i;

export function isManifestPath(p: string): boolean {
  return MANIFEST_NAME.test(p);
}

function lookupFor(ins: Instruction): Lookup {
  return (name) => ins.scope.get(name)?.value;
}

function expandArgs(ins: Instruction, escape: string): string[] {
  return splitWords(ins.args, escape).map((w) => expandWord(w.text, lookupFor(ins), escape).value);
}

export function flagKey(ins: Instruction, skip: readonly string[], escape: string): string[] {
  return ins.flags
    .filter((f) => !skip.includes(f.name))
    .map((f) => (f.value === null ? `--${f.name}` : `--${f.name}=${expandWord(f.value, lookupFor(ins), escape).value}`))
    .sort();
}

/** The command of CMD/ENTRYPOINT/HEALTHCHECK as the image config stores it. */
function commandArgv(ins: Instruction): string[] | undefined {
  const c = ins.command;
  if (!c) return undefined;
  if (c.form === 'exec') return [...(c.argv ?? [])];
  return [...c.shell, c.script.trim()];
}

export function absoluteDestination(dest: string, workdir: string): string {
  const dir = dest.endsWith('/') || dest === '.' || dest.endsWith('/.');
  const abs = dest.startsWith('/') ? posixJoin('/', dest) : posixJoin(workdir, dest);
  return dir && abs !== '/' ? abs + '/' : abs;
}

function categoryOfRun(invocations: readonly ToolInvocation[], script: string): { category: StepCategory; tools: string[] } {
  const tools: string[] = [];
  let category: StepCategory = 'run';
  for (const inv of invocations) {
    if (isSystemInstall(inv)) {
      category = 'system-packages';
      tools.push(inv.tool);
    }
  }
  if (category === 'run') {
    for (const inv of invocations) {
      if (isDependencyInstall(inv)) {
        category = 'dependencies';
        tools.push(inv.tool);
      }
    }
  }
  if (category === 'run' && invocations.some((i) => i.tool === 'curl' || i.tool === 'wget') && MODEL_PATH.test(script)) category = 'model';
  return { category, tools: [...new Set(tools)] };
}

/** The part of a COPY key that names build-context files: their paths and content digest. */
export function contextCopyWhat(sources: readonly string[], digest: string | undefined, uniqueId: string): string {
  // Unknown content (no context, or a source that matches nothing) is unique to the service.
  // ./a, a and a/ name the same source.
  return `sources=${JSON.stringify(sources.map((s) => cleanSource(s) ?? s))} content=${digest ?? `unknown:${uniqueId}`}`;
}

/** Which local paths COPY/ADD read: none for --from, URLs, git sources and heredocs. */
function contextSourcesOf(ins: Instruction): string[] | undefined {
  const c = ins.copy;
  if (!c || c.from !== undefined || c.heredoc) return undefined;
  const local = c.sources.filter((s) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(s) && !s.startsWith('git@'));
  return local.length ? local : undefined;
}

function copyCategory(ins: Instruction): StepCategory {
  const c = ins.copy!;
  if (c.from !== undefined) return 'files';
  if (c.sources.length && c.sources.every((s) => isManifestPath(s))) return 'manifests';
  if (c.sources.some((s) => MODEL_PATH.test(s)) || MODEL_PATH.test(c.destination)) return 'model';
  if (c.sources.some((s) => s === '.' || s === './')) return 'code';
  return 'files';
}

/** The value an ARG gives its variable: --build-arg, then its default, then the global ARG of that name. */
function argValue(df: Dockerfile, name: string, def: { value: string | undefined; resolved: string | undefined }, buildArgs: Readonly<Record<string, string>>): string | undefined {
  if (buildArgs[name] !== undefined) return buildArgs[name];
  if (def.value !== undefined) return def.resolved;
  let v: string | undefined;
  for (const g of df.globalArgs) for (const d of g.variables ?? []) if (d.name === name) v = buildArgs[name] ?? d.resolved;
  return v;
}

/** Normalises one instruction of a stage. */
export function normalizeInstruction(df: Dockerfile, ins: Instruction, ctx: NormalizeContext): Step {
  const escape = df.escape;
  const lookup = lookupFor(ins);
  const base = { keyword: ins.keyword, text: ins.text, comments: ins.comments, layer: LAYER_KEYWORDS.has(ins.keyword), origin: ins.index, contextSources: undefined as string[] | undefined, tools: [] as string[] };
  switch (ins.keyword) {
    case 'FROM': {
      const b = ins.base!;
      const name = b.kind === 'image' ? normalizeImageName(b.resolved) : b.kind === 'scratch' ? 'scratch' : `stage ${ctx.service}#${b.stage ?? b.resolved}`;
      return { ...base, key: `FROM ${name}${b.platform ? ' --platform=' + b.platform : ''}`, category: 'from' };
    }
    case 'RUN': {
      const c = ins.command;
      const flags = flagKey(ins, [], escape);
      // A RUN --mount reads from outside the image (cache, secret, bind): the same text may do different things.
      const mount = ins.flags.some((f) => f.name === 'mount' && /(^|,)type=(bind|secret|ssh)(,|$)/.test(f.value ?? '')) ? ` unique=${ctx.service}#${ins.index}` : '';
      if (!c) return { ...base, key: `RUN ${flags.join(' ')} ${collapse(ins.args)}${mount}`, category: 'run' };
      let script = c.script;
      const shellPrefix = `shell=${JSON.stringify(c.shell)}`;
      if (c.form === 'exec') {
        const argv = c.argv ?? [];
        const sh = c.shell;
        if (argv.length === sh.length + 1 && sh.every((s, i) => argv[i] === s)) script = argv[argv.length - 1]!;
        else return { ...base, key: `RUN ${flags.join(' ')} exec=${JSON.stringify(argv)}${mount}`, category: 'run' };
      } else if (c.form === 'heredoc' && /^\s*#!/.test(script)) {
        // A heredoc with its own interpreter: not a shell script.
        return { ...base, key: `RUN ${flags.join(' ')} heredoc=${sha256(script)}${mount}`, category: 'run' };
      }
      const canon = canonicalScript(script, lookup);
      const { category, tools } = categoryOfRun(canon.invocations, script);
      return { ...base, key: `RUN ${flags.join(' ')} ${shellPrefix} ${canon.key}${mount}`.replace(/ +/g, ' '), category, tools };
    }
    case 'COPY':
    case 'ADD': {
      const c = ins.copy!;
      const flags = flagKey(ins, ['from'], escape);
      const dest = absoluteDestination(c.destination, ins.workdir);
      const sources = contextSourcesOf(ins);
      let what: string;
      if (c.heredoc) what = `heredoc=${sha256(ins.heredocs.map((h) => h.content).join('\0'))}`;
      else if (c.from !== undefined) {
        const from = expandWord(c.from, lookup, escape).value;
        // Files from a stage of this Dockerfile depend on that stage: never shared across services.
        what = c.fromStage !== undefined ? `from-stage=${ctx.service}#${c.fromStage}` : `from=${normalizeImageName(from)}`;
        what += ` sources=${JSON.stringify(c.sources)}`;
      } else if (sources) {
        const digest = ctx.copyDigests.get(ins.index);
        const remote = c.sources.filter((s) => !sources.includes(s));
        what = contextCopyWhat(sources, digest, `${ctx.service}#${ins.index}`) + (remote.length ? ' urls=' + JSON.stringify(remote) : '');
      } else what = `urls=${JSON.stringify(c.sources)}`;
      return { ...base, key: `${ins.keyword} ${flags.join(' ')} ${what} dest=${dest}`.replace(/ +/g, ' '), category: copyCategory(ins), contextSources: sources };
    }
    case 'ARG': {
      const given = ctx.buildArgs ?? {};
      const args = (ins.variables ?? []).map((v) => ({ name: v.name, value: argValue(df, v.name, v, given), own: v.value !== undefined && given[v.name] === undefined }));
      return { ...base, key: `ARG ${args.map((a) => `${a.name}=${JSON.stringify(a.value ?? null)}`).join(' ')}`, category: 'config', args };
    }
    case 'ENV': {
      const vars = (ins.variables ?? []).map((v) => `${v.name}=${JSON.stringify(v.resolved ?? '')}`);
      // Definitions in one ENV all see the values from before it, so their order does not matter.
      return { ...base, key: `ENV ${[...new Set(vars)].sort().join(' ')}`, category: 'config' };
    }
    case 'WORKDIR': {
      const dir = expandWord(ins.args.trim(), lookup, escape).value;
      return { ...base, key: `WORKDIR ${posixJoin(ins.workdir, dir)}`, category: 'config' };
    }
    case 'USER':
      return { ...base, key: `USER ${ins.user ?? ''}`, category: 'config' };
    case 'SHELL':
      return { ...base, key: `SHELL ${collapse(ins.args)}`, category: 'config' };
    case 'CMD':
    case 'ENTRYPOINT':
      return { ...base, key: `${ins.keyword} ${JSON.stringify(commandArgv(ins) ?? collapse(ins.args))}`, category: 'config' };
    case 'HEALTHCHECK':
      return { ...base, key: `HEALTHCHECK ${flagKey(ins, [], escape).join(' ')} ${JSON.stringify(commandArgv(ins) ?? collapse(ins.args))}`, category: 'config' };
    case 'EXPOSE':
      return { ...base, key: `EXPOSE ${[...new Set(expandArgs(ins, escape).map((p) => (p.includes('/') ? p : p + '/tcp')))].sort().join(' ')}`, category: 'config' };
    case 'LABEL':
    case 'VOLUME':
    case 'STOPSIGNAL':
    case 'MAINTAINER':
      return { ...base, key: `${ins.keyword} ${expandArgs(ins, escape).join(' ')}`, category: 'config' };
    default:
      // ONBUILD (would fire in every image built on a base) and anything unknown: never shared.
      return { ...base, key: `${ins.keyword} ${collapse(ins.args)} unique=${ctx.service}#${ins.index}`, category: 'config' };
  }
}

/** Normalises a stage: its FROM and every instruction after it. */
export function normalizeStage(df: Dockerfile, stage: Stage, ctx: NormalizeContext): Step[] {
  return [normalizeInstruction(df, stage.from, ctx), ...stage.instructions.map((i) => normalizeInstruction(df, i, ctx))];
}
