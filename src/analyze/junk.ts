import type { FsNode } from './overlay.js';

/** How the step that left the junk behind was written, which decides the fix. */
export type StepKind = 'run' | 'copy' | 'other';

export interface JunkRule {
  id: string;
  /** What the files are, for titles: "apt package lists". */
  label: string;
  /** The folder (or file) the rule reports for this path, or undefined when the path is not junk. */
  match(path: string): string | undefined;
  /** The concrete fix, given how the offending step was written. */
  fix(kind: StepKind, root: string): string;
}

function prefixRule(id: string, label: string, rx: RegExp, fix: JunkRule['fix']): JunkRule {
  return {
    id,
    label,
    match: (p) => {
      const m = rx.exec(p);
      return m ? m[1] : undefined;
    },
    fix,
  };
}

const ignoreFile = (root: string) => `add ${root.split('/').pop()} to .dockerignore so the build context leaves it out`;

/** Package-manager caches and indexes, VCS and editor folders, temporary files. First match wins. */
export const JUNK_RULES: readonly JunkRule[] = [
  prefixRule('junk.apt-lists', 'apt package lists', /^(var\/lib\/apt\/lists)\/./, () => 'remove them in the same RUN: end it with `&& rm -rf /var/lib/apt/lists/*`'),
  prefixRule('junk.apt-cache', 'apt package cache', /^(var\/cache\/apt)\/./, () => 'clean it in the same RUN: `&& apt-get clean && rm -rf /var/cache/apt/*` (or install with `--no-install-recommends` and a cache mount)'),
  prefixRule('junk.apk-cache', 'apk package cache', /^(var\/cache\/apk|etc\/apk\/cache)\/./, () => 'install with `apk add --no-cache` instead of a separate `apk update`'),
  prefixRule('junk.rpm-cache', 'dnf/yum cache', /^(var\/cache\/(?:dnf|yum))\/./, () => 'clean it in the same RUN: `&& dnf clean all` (or `yum clean all`)'),
  prefixRule('junk.pip-cache', 'pip cache', /^((?:root|home\/[^/]+)\/\.cache\/pip)\/./, () => 'install with `pip install --no-cache-dir` (or set `ENV PIP_NO_CACHE_DIR=1`)'),
  prefixRule('junk.npm-cache', 'npm cache', /^((?:root|home\/[^/]+)\/\.npm)\/./, () => 'clean it in the same RUN: `&& npm cache clean --force` (or use a BuildKit cache mount for ~/.npm)'),
  prefixRule('junk.yarn-cache', 'yarn cache', /^((?:usr\/local\/share|root|home\/[^/]+)\/\.cache\/yarn|(?:root|home\/[^/]+)\/\.yarn\/berry\/cache)\/./, () => 'clean it in the same RUN: `&& yarn cache clean`'),
  prefixRule('junk.pycache', 'Python bytecode caches', /^((?:.*\/)?__pycache__)\/./, (k) =>
    k === 'copy' ? 'add __pycache__ and *.pyc to .dockerignore' : 'set `ENV PYTHONDONTWRITEBYTECODE=1` before the RUN (or `pip install --no-compile`), or delete __pycache__ folders in the same RUN'),
  prefixRule('junk.vcs', 'version-control metadata', /^((?:.*\/)?\.(?:git|svn|hg))(?:\/.|$)/, (k, root) =>
    k === 'copy' ? ignoreFile(root) : 'remove it in the same RUN (`&& rm -rf .git`), or clone with `git clone --depth 1` in a build stage'),
  prefixRule('junk.editor', 'editor and OS metadata', /^((?:.*\/)?(?:\.vscode|\.idea|\.DS_Store|[^/]+\.swp|Thumbs\.db))(?:\/.|$)/, (k, root) =>
    k === 'copy' ? ignoreFile(root) : 'delete it in the same RUN'),
  prefixRule('junk.tmp', 'temporary files', /^((?:var\/)?tmp)\/./, () => 'delete them in the same RUN that writes them (`&& rm -rf /tmp/*`)'),
];

export interface JunkHit {
  rule: JunkRule;
  root: string;
  path: string;
  node: FsNode;
}

/** The first junk rule a visible path falls under. */
export function classifyJunk(path: string): { rule: JunkRule; root: string } | undefined {
  for (const rule of JUNK_RULES) {
    const root = rule.match(path);
    if (root !== undefined) return { rule, root };
  }
  return undefined;
}

/** Decides how a history step was written from its description ("RUN ...", "COPY ...", "ADD ..."). */
export function stepKind(step: string): StepKind {
  if (/^RUN\b/.test(step) || /^\/bin\/sh -c\b/.test(step)) return 'run';
  if (/^(COPY|ADD)\b/.test(step)) return 'copy';
  return 'other';
}
