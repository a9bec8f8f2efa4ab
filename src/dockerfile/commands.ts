/**
 * Recognises the programs a RUN script calls that matter for image size, caching and dependency
 * pinning (apt-get, apk, yum/dnf, pip, npm, yarn, pnpm, go, gem, bundle, poetry, mvn, gradle, cargo,
 * composer, rm...) and reads their options the way each program does, so `-y`, `-qy`,
 * `--option=value`, `-o Key=Value` and operands are told apart reliably. Wrappers such as
 * `sudo`, `env A=1`, `xargs` and `sh -c "..."` are looked through.
 */
import { parseShell, type ShellScript, type ShellWord, type SimpleCommand } from './shell.js';

export type Tool =
  | 'apt-get' | 'apk' | 'yum' | 'dnf' | 'microdnf' | 'zypper'
  | 'pip' | 'uv' | 'poetry' | 'pipenv' | 'conda'
  | 'npm' | 'yarn' | 'pnpm'
  | 'go' | 'gem' | 'bundle' | 'mvn' | 'gradle' | 'cargo' | 'composer'
  | 'rm' | 'curl' | 'wget' | 'cd' | 'set' | 'export' | 'other';

export interface ToolOption {
  /** As written, without the value: `--no-cache-dir`, `-y`, `-o`. Short clusters are split (`-qy` -> `-q`, `-y`). */
  name: string;
  value: string | undefined;
  word: ShellWord;
}

export interface ToolInvocation {
  tool: Tool;
  /** The program as written, basename only (pip3, python3, apt, ./gradlew). */
  program: string;
  /** The word naming the program (for `python -m pip` the `pip` word). */
  programWord: ShellWord;
  /** The first operand, normalised (npm i -> install, npm clean-install -> ci, bare yarn -> install). */
  subcommand: string | undefined;
  subcommandWord: ShellWord | undefined;
  options: ToolOption[];
  /** Operands after the subcommand. */
  operands: ShellWord[];
  /** Environment assignments in front of the command, including `env NAME=value`. */
  env: ReadonlyMap<string, string>;
  command: SimpleCommand;
  /** Came from a nested `sh -c "..."` script: word offsets are relative to that string, not the RUN script. */
  nested: boolean;
}

interface ToolSpec {
  /** Options that take a value (long with dashes, short as '-x'). */
  valued: readonly string[];
  /** Single-dash words are whole option names (go, mvn, gradle), not clusters of letters. */
  singleDashLong?: boolean;
  /** Tools with no subcommand (rm): all non-options are operands. */
  noSubcommand?: boolean;
}

const SPECS: Partial<Record<Tool, ToolSpec>> = {
  'apt-get': { valued: ['-o', '-c', '-t', '-a', '--option', '--config-file', '--target-release', '--default-release', '--host-architecture'] },
  apk: { valued: ['-X', '-p', '-t', '--repository', '--root', '--virtual', '--arch', '--cache-dir', '--keys-dir', '--repositories-file', '--timeout'] },
  yum: { valued: ['-c', '-d', '-e', '-x', '-R', '--enablerepo', '--disablerepo', '--setopt', '--exclude', '--installroot', '--releasever', '--config', '--repo', '--repoid', '--forcearch', '--disableplugin', '--enableplugin', '--downloaddir', '--destdir'] },
  zypper: { valued: ['-r', '--repo', '--from', '-t', '--type', '--root', '-R'] },
  pip: {
    valued: ['-r', '-c', '-e', '-i', '-f', '-t', '-C', '--requirement', '--constraint', '--editable', '--index-url', '--extra-index-url', '--find-links', '--target', '--prefix', '--root', '--platform', '--python-version', '--implementation', '--abi', '--only-binary', '--no-binary', '--progress-bar', '--trusted-host', '--src', '--upgrade-strategy', '--global-option', '--config-settings', '--log', '--cache-dir', '--proxy', '--retries', '--timeout', '--exists-action', '--cert', '--client-cert', '--report', '--root-user-action', '--python'],
  },
  uv: { valued: ['-r', '-c', '-e', '-i', '-f', '-p', '--requirement', '--constraint', '--constraints', '--editable', '--index-url', '--extra-index-url', '--index', '--find-links', '--target', '--prefix', '--python', '--python-version', '--cache-dir', '--directory', '--project', '--extra', '--group'] },
  poetry: { valued: ['-E', '-C', '-P', '--only', '--without', '--with', '--extras', '--directory', '--project'] },
  pipenv: { valued: ['--python', '--pypi-mirror'] },
  conda: { valued: ['-n', '-c', '-p', '--name', '--channel', '--prefix', '--file', '-f'] },
  npm: { valued: ['-w', '--prefix', '--registry', '--omit', '--include', '--workspace', '--cache', '--loglevel', '--userconfig', '--tag', '--only', '--location', '--install-strategy'] },
  yarn: { valued: ['--cwd', '--modules-folder', '--cache-folder', '--network-timeout', '--mutex', '--registry'] },
  pnpm: { valued: ['-C', '-F', '--dir', '--filter', '--store-dir', '--reporter', '--config.dir'] },
  go: { valued: ['-o', '-ldflags', '-gcflags', '-asmflags', '-tags', '-mod', '-modfile', '-p', '-pkgdir', '-toolexec', '-overlay', '-C', '-buildmode', '-compiler', '-installsuffix', '-exec'], singleDashLong: true },
  gem: { valued: ['-v', '-i', '-n', '-s', '--version', '--install-dir', '--bindir', '--source', '--platform'] },
  bundle: { valued: ['-j', '--jobs', '--retry', '--path', '--without', '--with', '--gemfile', '--binstubs'] },
  mvn: { valued: ['-f', '-s', '-gs', '-P', '-pl', '-T', '-rf', '-t', '-l', '--file', '--settings', '--global-settings', '--activate-profiles', '--projects', '--threads', '--resume-from', '--log-file'], singleDashLong: true },
  gradle: { valued: ['-x', '-p', '-b', '-c', '-g', '--exclude-task', '--project-dir', '--build-file', '--settings-file', '--gradle-user-home', '--console', '--warning-mode', '--max-workers'], singleDashLong: true },
  cargo: { valued: ['-p', '-F', '-j', '--package', '--bin', '--example', '--target', '--features', '--manifest-path', '--target-dir', '--jobs', '--profile', '--version', '--root', '--registry', '--index', '--git', '--branch', '--tag', '--rev', '--path', '--config'] },
  composer: { valued: ['-d', '--working-dir'] },
  rm: { valued: [], noSubcommand: true },
  curl: { valued: ['-o', '-O', '-H', '-d', '-X', '-u', '-A', '-e', '-m', '-w', '--output', '--header', '--data', '--request', '--user', '--retry', '--max-time', '--connect-timeout', '--proto', '--tlsv1.2'], noSubcommand: true },
  wget: { valued: ['-O', '-P', '--output-document', '--directory-prefix', '--header', '--tries', '--timeout'], noSubcommand: true },
};
SPECS.dnf = SPECS.yum;
SPECS.microdnf = SPECS.yum;

const SUBCOMMAND_ALIASES: Partial<Record<Tool, Record<string, string>>> = {
  npm: { i: 'install', add: 'install', isntall: 'install', in: 'install', 'clean-install': 'ci', ic: 'ci', 'install-clean': 'ci', isntall_clean: 'ci', un: 'uninstall', rm: 'uninstall', remove: 'uninstall' },
  pnpm: { i: 'install', add: 'add' },
  dnf: { in: 'install', rm: 'remove' },
  yum: { in: 'install' },
  zypper: { in: 'install', ref: 'refresh', rm: 'remove' },
};

function toolOf(program: string): Tool | undefined {
  if (program === 'apt-get' || program === 'apt') return 'apt-get';
  if (/^pip(\d+(\.\d+)?)?$/.test(program)) return 'pip';
  if (program === './gradlew' || program === 'gradlew' || program === 'gradle') return 'gradle';
  if (program === 'mvn' || program === 'mvnw' || program === './mvnw') return 'mvn';
  if (program === 'bundler') return 'bundle';
  if (program === 'mamba' || program === 'micromamba') return 'conda';
  const known: readonly string[] = ['apk', 'yum', 'dnf', 'microdnf', 'zypper', 'uv', 'poetry', 'pipenv', 'conda', 'npm', 'yarn', 'pnpm', 'go', 'gem', 'bundle', 'cargo', 'composer', 'rm', 'curl', 'wget', 'cd', 'set', 'export'];
  return known.includes(program) ? (program as Tool) : undefined;
}

function basename(p: string): string {
  if (p.startsWith('./')) return p;
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}

const WRAPPER_VALUED: Record<string, readonly string[]> = {
  sudo: ['-u', '-g', '-C', '-h', '-p', '-U', '-r', '-t'],
  env: ['-u', '-C', '-S', '--unset', '--chdir'],
  nice: ['-n', '--adjustment'],
  xargs: ['-n', '-I', '-L', '-P', '-d', '-E', '-s', '-a', '--max-args', '--max-procs', '--delimiter', '--arg-file'],
  timeout: ['-s', '-k', '--signal', '--kill-after'],
  stdbuf: ['-i', '-o', '-e'],
  nohup: [],
  exec: ['-a'],
  command: [],
  time: [],
  'retry': ['-t', '-d', '--times', '--delay'],
};

/** Skips wrapper programs; returns the index of the real program in argv and the env they set. */
function unwrap(argv: readonly ShellWord[], env: Map<string, string>): number {
  let i = 0;
  while (i < argv.length) {
    const name = basename(argv[i]!.value);
    const valued = WRAPPER_VALUED[name];
    if (!valued) return i;
    i++;
    let positional = name === 'timeout' ? 1 : 0;
    while (i < argv.length) {
      const v = argv[i]!.value;
      if (v === '--') {
        i++;
        break;
      }
      if (name === 'env' && /^[A-Za-z_][A-Za-z0-9_]*=/.test(v)) {
        const eq = v.indexOf('=');
        env.set(v.slice(0, eq), v.slice(eq + 1));
        i++;
      } else if (v.startsWith('-') && v.length > 1) {
        i += valued.includes(v) ? 2 : 1;
      } else if (positional > 0) {
        positional--;
        i++;
      } else break;
    }
  }
  return i;
}

function readOptions(tool: Tool, words: readonly ShellWord[]): { options: ToolOption[]; positional: ShellWord[] } {
  const spec = SPECS[tool] ?? { valued: [] };
  const options: ToolOption[] = [];
  const positional: ShellWord[] = [];
  let onlyOperands = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const v = w.value;
    if (onlyOperands || !v.startsWith('-') || v === '-') {
      positional.push(w);
      continue;
    }
    if (v === '--') {
      onlyOperands = true;
      continue;
    }
    if (v.startsWith('--') || spec.singleDashLong) {
      const eq = v.indexOf('=');
      // -Dprop=value (mvn/gradle) and -Pprofile carry their value attached.
      if (spec.singleDashLong && /^-[DP][^=]/.test(v) && !spec.valued.includes(v)) {
        options.push({ name: v.slice(0, 2), value: v.slice(2), word: w });
        continue;
      }
      if (eq > 0) options.push({ name: v.slice(0, eq), value: v.slice(eq + 1), word: w });
      else if (spec.valued.includes(v) && i + 1 < words.length) {
        options.push({ name: v, value: words[i + 1]!.value, word: w });
        i++;
      } else options.push({ name: v, value: undefined, word: w });
      continue;
    }
    // A cluster of short options: -qy, -rrequirements.txt, -o Key=Value.
    for (let k = 1; k < v.length; k++) {
      const name = '-' + v[k];
      if (spec.valued.includes(name)) {
        const rest = v.slice(k + 1);
        if (rest !== '') options.push({ name, value: rest.startsWith('=') ? rest.slice(1) : rest, word: w });
        else if (i + 1 < words.length) {
          options.push({ name, value: words[i + 1]!.value, word: w });
          i++;
        } else options.push({ name, value: undefined, word: w });
        break;
      }
      options.push({ name, value: undefined, word: w });
    }
  }
  return { options, positional };
}

/** Recognises one simple command; undefined when it runs a program this module does not know. */
export function recogniseCommand(cmd: SimpleCommand, nested = false): ToolInvocation | undefined {
  const env = new Map<string, string>();
  for (const a of cmd.assignments) {
    const eq = a.value.indexOf('=');
    env.set(a.value.slice(0, eq), a.value.slice(eq + 1));
  }
  let i = unwrap(cmd.argv, env);
  const first = cmd.argv[i];
  if (!first) return undefined;
  let program = basename(first.value);
  let programWord = first;
  let tool = toolOf(program);
  // python -m pip ..., python3.12 -m pip ...
  if (!tool && /^python(\d+(\.\d+)?)?$/.test(program)) {
    let j = i + 1;
    while (j < cmd.argv.length && cmd.argv[j]!.value.startsWith('-') && cmd.argv[j]!.value !== '-m') j++;
    if (cmd.argv[j]?.value === '-m' && cmd.argv[j + 1]?.value === 'pip') {
      tool = 'pip';
      programWord = cmd.argv[j + 1]!;
      i = j + 1;
    }
  }
  if (!tool) return undefined;
  const rest = cmd.argv.slice(i + 1);
  const { options, positional } = readOptions(tool, rest);
  const spec = SPECS[tool];
  let subcommandWord: ShellWord | undefined;
  let operands = positional;
  if (!spec?.noSubcommand && tool !== 'cd' && tool !== 'set' && tool !== 'export') {
    subcommandWord = positional[0];
    operands = positional.slice(1);
  }
  let subcommand = subcommandWord?.value;
  if (subcommand !== undefined) subcommand = SUBCOMMAND_ALIASES[tool]?.[subcommand] ?? subcommand;
  if (tool === 'yarn' && subcommand === undefined) subcommand = 'install';
  return { tool, program, programWord, subcommand, subcommandWord, options, operands, env, command: cmd, nested };
}

export function hasOption(inv: ToolInvocation, ...names: string[]): boolean {
  return inv.options.some((o) => names.includes(o.name));
}

export function optionValues(inv: ToolInvocation, ...names: string[]): string[] {
  return inv.options.filter((o) => names.includes(o.name) && o.value !== undefined).map((o) => o.value!);
}

/** Every simple command of a script, including those of `sh -c "..."` / `bash -c '...'` (marked nested). */
export function allCommands(script: ShellScript): { command: SimpleCommand; nested: boolean }[] {
  const out: { command: SimpleCommand; nested: boolean }[] = [];
  const visit = (s: ShellScript, nested: boolean, depth: number) => {
    for (const c of s.commands) {
      out.push({ command: c, nested });
      const prog = c.argv[0] ? basename(c.argv[0].value) : '';
      if (depth < 3 && ['sh', 'bash', 'dash', 'ash', 'zsh'].includes(prog)) {
        const ci = c.argv.findIndex((w, k) => k > 0 && /^-[a-z]*c[a-z]*$/.test(w.value));
        const body = ci > 0 ? c.argv[ci + 1] : undefined;
        if (body) visit(parseShell(body.value), true, depth + 1);
      }
    }
  };
  visit(script, false, 0);
  return out;
}

/** Recognises every known program a script runs, in order. */
export function recogniseScript(script: ShellScript): ToolInvocation[] {
  const out: ToolInvocation[] = [];
  for (const { command, nested } of allCommands(script)) {
    const inv = recogniseCommand(command, nested);
    if (inv) out.push(inv);
  }
  return out;
}
