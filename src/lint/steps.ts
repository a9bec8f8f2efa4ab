/**
 * What a recognised command does to the image, in the terms the rules need: installs OS packages,
 * installs dependencies from a manifest (and which manifest files it reads), installs a named
 * package, or only cleans up. One place, so every rule classifies commands the same way.
 */
import { hasOption, optionValues, type ToolInvocation } from '../dockerfile/commands.js';

export type Ecosystem = 'python' | 'node' | 'go' | 'ruby' | 'maven' | 'gradle' | 'rust' | 'php';

export interface DependencyStep {
  ecosystem: Ecosystem;
  /** The manifest and lock files it reads (paths as written, or well-known names). */
  manifests: string[];
  /** Only fetches/installs dependencies (npm ci, go mod download, mvn dependency:go-offline). */
  depsOnly: boolean;
  invocation: ToolInvocation;
}

export function isOsInstall(inv: ToolInvocation): boolean {
  switch (inv.tool) {
    case 'apt-get':
      return inv.subcommand === 'install' || inv.subcommand === 'upgrade' || inv.subcommand === 'dist-upgrade' || inv.subcommand === 'full-upgrade';
    case 'apk':
      return inv.subcommand === 'add' || inv.subcommand === 'upgrade';
    case 'yum':
    case 'dnf':
    case 'microdnf':
    case 'zypper':
      return inv.subcommand === 'install' || inv.subcommand === 'update' || inv.subcommand === 'upgrade' || inv.subcommand === 'groupinstall';
    default:
      return false;
  }
}

/** OS packages named on the command line (empty for upgrades). */
export function osPackages(inv: ToolInvocation): string[] {
  if (!isOsInstall(inv)) return [];
  return inv.operands.filter((w) => !w.dynamic).map((w) => w.value);
}

const REQ_OPTS = ['-r', '--requirement'];

/** pip (and uv pip) install: the named packages, without -r files, paths, URLs or wheels. */
export function pipNamedPackages(inv: ToolInvocation): string[] {
  return inv.operands.map((w) => w.value).filter((v) => !isLocalOrUrl(v));
}

function isLocalOrUrl(v: string): boolean {
  return v === '.' || v.startsWith('./') || v.startsWith('../') || v.startsWith('/') || /^[a-z+]+:\/\//i.test(v) || v.includes(' @ ') || /\.(whl|tar\.gz|zip|tgz)$/i.test(v) || v.startsWith('$');
}

/** Whether `pip install` here installs a local project (., -e ., /src). */
function pipInstallsProject(inv: ToolInvocation): boolean {
  return inv.operands.some((w) => isLocalOrUrl(w.value) && !/^[a-z+]+:\/\//i.test(w.value) && !/\.(whl)$/i.test(w.value)) || optionValues(inv, '-e', '--editable').length > 0;
}

function isPip(inv: ToolInvocation): boolean {
  return (inv.tool === 'pip' && inv.subcommand === 'install') || (inv.tool === 'uv' && inv.subcommand === 'pip' && inv.operands[0]?.value === 'install');
}

/** uv pip install: the words after `install`. */
export function pipOperands(inv: ToolInvocation): string[] {
  const ops = inv.operands.map((w) => w.value);
  return inv.tool === 'uv' ? ops.slice(1) : ops;
}

export function dependencyStep(inv: ToolInvocation): DependencyStep | undefined {
  const step = (ecosystem: Ecosystem, manifests: string[], depsOnly = true): DependencyStep => ({ ecosystem, manifests, depsOnly, invocation: inv });
  const sub = inv.subcommand;
  switch (inv.tool) {
    case 'pip':
    case 'uv': {
      if (inv.tool === 'uv' && sub === 'sync') return step('python', ['pyproject.toml', 'uv.lock'], hasOption(inv, '--no-install-project'));
      if (!isPip(inv)) return undefined;
      const reqs = optionValues(inv, ...REQ_OPTS);
      if (reqs.length) return step('python', reqs);
      if (!hasOption(inv, '--no-deps') && pipInstallsProject(inv)) return step('python', ['pyproject.toml', 'setup.py', 'setup.cfg'], false);
      return undefined;
    }
    case 'poetry':
      // Without --no-root poetry also installs the project itself, which needs the source.
      return sub === 'install' || sub === 'sync' ? step('python', ['pyproject.toml', 'poetry.lock'], hasOption(inv, '--no-root')) : undefined;
    case 'pipenv':
      return sub === 'install' || sub === 'sync' ? step('python', ['Pipfile', 'Pipfile.lock']) : undefined;
    case 'npm':
      return (sub === 'ci' || sub === 'install') && inv.operands.length === 0 && !hasOption(inv, '-g', '--global') ? step('node', ['package.json', 'package-lock.json', 'npm-shrinkwrap.json']) : undefined;
    case 'yarn':
      return sub === 'install' ? step('node', ['package.json', 'yarn.lock']) : undefined;
    case 'pnpm':
      return sub === 'install' || sub === 'fetch' ? step('node', ['package.json', 'pnpm-lock.yaml']) : undefined;
    case 'go':
      if (sub === 'mod' && inv.operands[0]?.value === 'download') return step('go', ['go.mod', 'go.sum']);
      if (sub === 'build' || sub === 'test' || (sub === 'install' && inv.operands.every((w) => !w.value.includes('@')))) return step('go', ['go.mod', 'go.sum'], false);
      return undefined;
    case 'bundle':
      return sub === 'install' ? step('ruby', ['Gemfile', 'Gemfile.lock']) : undefined;
    case 'mvn': {
      const goals = [sub, ...inv.operands.map((w) => w.value)].filter((g): g is string => !!g);
      if (!goals.length) return undefined;
      const depsOnly = goals.every((g) => g.startsWith('dependency:'));
      return step('maven', ['pom.xml'], depsOnly);
    }
    case 'gradle': {
      const tasks = [sub, ...inv.operands.map((w) => w.value)].filter((g): g is string => !!g);
      if (!tasks.length) return undefined;
      const depsOnly = tasks.every((t) => t === 'dependencies' || t === 'downloadDependencies' || t === 'resolveDependencies') || hasOption(inv, '--refresh-dependencies') && tasks.every((t) => t === 'help');
      return step('gradle', ['build.gradle', 'build.gradle.kts', 'settings.gradle', 'settings.gradle.kts', 'gradle.properties'], depsOnly);
    }
    case 'cargo':
      if (sub === 'fetch') return step('rust', ['Cargo.toml', 'Cargo.lock']);
      if (sub === 'build' || sub === 'test' || (sub === 'install' && hasOption(inv, '--path'))) return step('rust', ['Cargo.toml', 'Cargo.lock'], false);
      return undefined;
    case 'composer':
      return sub === 'install' ? step('php', ['composer.json', 'composer.lock']) : undefined;
    default:
      return undefined;
  }
}

export const isVcsUrl = (v: string) => /^(git|hg|svn|bzr)\+/.test(v) || /^[\w.-]+\s*@\s*(git|hg|svn|bzr)\+/.test(v);

/** Installs a package named on the command line (or a VCS URL), with no manifest involved. */
export function namedInstall(inv: ToolInvocation): { packages: string[]; kind: 'pip' | 'npm' | 'gem' | 'go' | 'cargo' | 'yarn' | 'pnpm' } | undefined {
  if (isPip(inv)) {
    const pkgs = pipOperands(inv).filter((v) => isVcsUrl(v) || !isLocalOrUrl(v));
    return pkgs.length ? { packages: pkgs, kind: 'pip' } : undefined;
  }
  const ops = inv.operands.filter((w) => !w.dynamic).map((w) => w.value);
  if (inv.tool === 'npm' && inv.subcommand === 'install' && ops.length) return { packages: ops.filter((v) => !isLocalOrUrl(v)), kind: 'npm' };
  if (inv.tool === 'yarn' && (inv.subcommand === 'add' || inv.subcommand === 'global') && ops.length) return { packages: ops.filter((v) => v !== 'add' && !isLocalOrUrl(v)), kind: 'yarn' };
  if (inv.tool === 'pnpm' && inv.subcommand === 'add' && ops.length) return { packages: ops.filter((v) => !isLocalOrUrl(v)), kind: 'pnpm' };
  if (inv.tool === 'gem' && inv.subcommand === 'install' && ops.length) return { packages: ops, kind: 'gem' };
  if (inv.tool === 'go' && inv.subcommand === 'install' && ops.some((v) => v.includes('@'))) return { packages: ops, kind: 'go' };
  if (inv.tool === 'cargo' && inv.subcommand === 'install' && ops.length && !hasOption(inv, '--path')) return { packages: ops, kind: 'cargo' };
  return undefined;
}

/** Paths whose removal counts as cleaning a package-manager cache or list. */
export const CACHE_PATHS = {
  aptLists: ['/var/lib/apt/lists'],
  aptCache: ['/var/cache/apt'],
  apk: ['/var/cache/apk', '/etc/apk/cache'],
  yum: ['/var/cache/yum', '/var/cache/dnf', '/var/cache/microdnf'],
  pip: ['/root/.cache/pip', '/root/.cache', '~/.cache/pip', '~/.cache', '$HOME/.cache', '$HOME/.cache/pip', '/tmp/pip-cache'],
  uv: ['/root/.cache/uv', '/root/.cache', '~/.cache/uv', '~/.cache', '$HOME/.cache', '$HOME/.cache/uv'],
  npm: ['/root/.npm', '~/.npm', '$HOME/.npm', '/home/node/.npm'],
  yarn: ['/usr/local/share/.cache/yarn', '/root/.cache/yarn', '~/.cache/yarn', '$HOME/.cache/yarn', '/root/.yarn/berry/cache', '/home/node/.cache/yarn'],
  pnpm: ['/root/.local/share/pnpm/store', '/pnpm/store', '~/.local/share/pnpm/store', '/root/.cache/pnpm'],
} as const;

/** `rm` of a path at or under one of `prefixes` (with or without a trailing /* ). */
export function removes(inv: ToolInvocation, prefixes: readonly string[]): boolean {
  if (inv.tool !== 'rm') return false;
  return inv.operands.some((w) => {
    const p = w.value.replace(/\/\*$/, '').replace(/\/$/, '');
    return prefixes.some((pre) => p === pre || p.startsWith(pre + '/'));
  });
}

/** A command that only cleans up caches, lists or build dependencies. */
export function isCleanup(inv: ToolInvocation): boolean {
  const s = inv.subcommand;
  switch (inv.tool) {
    case 'rm':
      return true;
    case 'apt-get':
      return s === 'clean' || s === 'autoclean' || s === 'autoremove' || s === 'purge' || s === 'remove';
    case 'apk':
      return s === 'del' || (s === 'cache' && inv.operands[0]?.value === 'clean');
    case 'yum':
    case 'dnf':
    case 'microdnf':
      return s === 'clean' || s === 'remove' || s === 'autoremove';
    case 'pip':
      return s === 'cache' || s === 'uninstall';
    case 'npm':
      return s === 'cache';
    case 'yarn':
      return s === 'cache';
    case 'pnpm':
      return s === 'store';
    default:
      return false;
  }
}
