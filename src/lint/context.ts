/**
 * The build context as Docker sends it: walk the folder (streaming directory reads, one lstat per
 * entry, file contents never read), apply `.dockerignore` with Docker's own semantics
 * (@balena/dockerignore), and note what is sent: total size, the largest top-level entries, and the
 * things that rarely belong in an image (.git, node_modules, editor folders, caches, model weights,
 * logs, archives, secrets). The only files read are small dependency manifests the drift rules
 * need (requirements*.txt, package.json...), each capped at MANIFEST_MAX bytes.
 */
import { opendir, lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ignoreMatcher, readIgnoreFile } from '../dockerfile/ignore.js';
import { asLayerwiseError } from '../errors.js';

export type ItemCategory = 'vcs' | 'dependencies' | 'editor' | 'cache' | 'model-weights' | 'logs' | 'archives' | 'secrets';

export interface ContextItem {
  /** Relative path with forward slashes. */
  path: string;
  kind: 'dir' | 'file';
  category: ItemCategory;
  /** Bytes that would be sent (files excluded by .dockerignore do not count). */
  size: number;
  files: number;
}

export interface BuildContext {
  root: string;
  /** The ignore file that applies (relative to the root, or an absolute path for <Dockerfile>.dockerignore); undefined when none. */
  ignoreFile: string | undefined;
  totalSize: number;
  totalFiles: number;
  /** Size and count excluded by the ignore file. */
  excludedSize: number;
  excludedFiles: number;
  /** Top-level entries by size sent, largest first (at most 10). */
  largest: { path: string; size: number }[];
  /** Unwanted things that would be sent, largest first. */
  items: ContextItem[];
  /** Every sent file and folder path whose basename is a known manifest/lock name (relative). */
  manifests: ReadonlySet<string>;
  /** Text of small manifests (requirements*.txt, constraints*.txt, package.json), by relative path. */
  texts: ReadonlyMap<string, string>;
  /** Directories sent (relative paths), for telling `COPY dir/` from a file. Only the first levels. */
  dirs: ReadonlySet<string>;
}


export const MANIFEST_MAX = 256 * 1024;

const MANIFEST_NAMES = new Set([
  'requirements.txt', 'constraints.txt', 'pyproject.toml', 'poetry.lock', 'uv.lock', 'Pipfile', 'Pipfile.lock', 'setup.py', 'setup.cfg',
  'package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', '.yarnrc.yml',
  'go.mod', 'go.sum', 'Gemfile', 'Gemfile.lock', 'pom.xml', 'build.gradle', 'build.gradle.kts', 'settings.gradle', 'settings.gradle.kts',
  'Cargo.toml', 'Cargo.lock', 'composer.json', 'composer.lock',
]);
/** pip requirement files: requirements*.txt, constraints*.txt, and any .txt inside a requirements/ folder. */
const isRequirementsFile = (rel: string) => {
  const n = rel.slice(rel.lastIndexOf('/') + 1);
  return /^(requirements|constraints)[\w.-]*\.txt$/.test(n) || (/(^|\/)(requirements|reqs|constraints)\/[^/]+\.txt$/.test(rel));
};
const isManifestName = (rel: string) => {
  const n = rel.slice(rel.lastIndexOf('/') + 1);
  return MANIFEST_NAMES.has(n) || /^(requirements|constraints)[\w.-]*\.(txt|in)$/.test(n) || isRequirementsFile(rel);
};
const isReadableManifest = (rel: string) => {
  const n = rel.slice(rel.lastIndexOf('/') + 1);
  return isRequirementsFile(rel) || n === 'package.json' || n === 'pyproject.toml' || n === 'go.mod';
};

const DIR_CATEGORIES: Record<string, ItemCategory> = {
  '.git': 'vcs', '.hg': 'vcs', '.svn': 'vcs',
  node_modules: 'dependencies', '.venv': 'dependencies', venv: 'dependencies', bower_components: 'dependencies', '.pnpm-store': 'dependencies',
  '.idea': 'editor', '.vscode': 'editor', '.vs': 'editor',
  __pycache__: 'cache', '.pytest_cache': 'cache', '.mypy_cache': 'cache', '.ruff_cache': 'cache', '.tox': 'cache', '.nox': 'cache', '.gradle': 'cache', '.cache': 'cache', '.next': 'cache', '.parcel-cache': 'cache', '.terraform': 'cache',
  logs: 'logs', log: 'logs',
  '.ssh': 'secrets', '.aws': 'secrets', '.gnupg': 'secrets',
};

const WEIGHT_EXT = /\.(safetensors|pt|pth|ckpt|onnx|gguf|ggml|h5|hdf5|tflite|mlmodel|keras|pb|bin|pkl|joblib|npz)$/i;
/** Weight formats that are ambiguous (protobuf, generic binaries, pickles) count only from this size. */
const AMBIGUOUS_WEIGHT = /\.(pb|bin|pkl|joblib|npz)$/i;
const AMBIGUOUS_MIN = 1_000_000;
const ARCHIVE_EXT = /\.(zip|tar|tgz|tar\.gz|tar\.bz2|tbz2|tar\.xz|txz|tar\.zst|gz|bz2|xz|zst|7z|rar|jar|war|ear|iso|dmg)$/i;

function fileCategory(name: string, size: number): ItemCategory | undefined {
  if (name === '.DS_Store' || name === 'Thumbs.db') return 'editor';
  if (/^\.env(\..+)?$/.test(name) && !/\.(example|sample|template|dist|defaults)$/.test(name)) return 'secrets';
  if (/^id_(rsa|dsa|ecdsa|ed25519)$/.test(name) || /\.(pem|key|p12|pfx|jks|keystore)$/i.test(name) || name === '.netrc' || name === '.pypirc' || name === '.npmrc' || name === 'credentials.json' || name === '.git-credentials') {
    if (/\.(crt|pub)$/.test(name)) return undefined;
    return 'secrets';
  }
  if (/\.log(\.\d+)?$/i.test(name)) return 'logs';
  if (WEIGHT_EXT.test(name) && (!AMBIGUOUS_WEIGHT.test(name) || size >= AMBIGUOUS_MIN)) return 'model-weights';
  if (ARCHIVE_EXT.test(name)) return 'archives';
  return undefined;
}

export interface ScanOptions {
  /** The Dockerfile path: `<Dockerfile>.dockerignore` beside it wins over the context's .dockerignore (BuildKit). */
  dockerfile?: string;
  /** Called for every file (and symlink) that would be sent, as it is found. */
  onSent?: (rel: string, size: number) => void;
}

export { readIgnoreFile };

/** Walks the context. Memory stays bounded by the directory depth and the number of reported items. */
export async function scanContext(root: string, options: ScanOptions = {}): Promise<BuildContext> {
  const { file: ignoreFile, patterns } = await readIgnoreFile(root, options.dockerfile);
  const ig = { ignores: ignoreMatcher(patterns) };
  const hasExceptions = patterns.some((p) => p.startsWith('!'));
  let totalSize = 0;
  let totalFiles = 0;
  let excludedSize = 0;
  let excludedFiles = 0;
  const topLevel = new Map<string, number>();
  const items: ContextItem[] = [];
  const manifests = new Set<string>();
  const toRead: string[] = [];
  const dirs = new Set<string>();

  /** Walks `rel` (a directory); returns sent bytes and files below it. `item` collects into a reported item. */
  const walk = async (rel: string, depth: number): Promise<{ size: number; files: number }> => {
    let size = 0;
    let files = 0;
    let dir;
    try {
      dir = await opendir(path.join(root, rel));
    } catch (err) {
      throw asLayerwiseError(err, path.join(root, rel));
    }
    for await (const ent of dir) {
      const childRel = rel ? `${rel}/${ent.name}` : ent.name;
      const isDir = ent.isDirectory();
      const excluded = ig.ignores(childRel);
      if (isDir) {
        if (excluded && !hasExceptions) {
          // Docker skips an excluded folder entirely when no `!` pattern could bring something back.
          const st = await dirUsage(path.join(root, childRel));
          excludedSize += st.size;
          excludedFiles += st.files;
          continue;
        }
        if (depth < 3) dirs.add(childRel);
        const sub = await walk(childRel, depth + 1);
        size += sub.size;
        files += sub.files;
        if (!rel) topLevel.set(ent.name + '/', sub.size);
        const cat = DIR_CATEGORIES[ent.name];
        if (cat && sub.files > 0 && !insideItem(childRel)) items.push({ path: childRel, kind: 'dir', category: cat, size: sub.size, files: sub.files });
        if (isManifestName(childRel) && !excluded) manifests.add(childRel);
        continue;
      }
      const st = await lstat(path.join(root, childRel));
      const bytes = st.isFile() ? st.size : 0;
      if (excluded) {
        excludedSize += bytes;
        excludedFiles++;
        continue;
      }
      size += bytes;
      files++;
      options.onSent?.(childRel, bytes);
      if (!rel) topLevel.set(ent.name, bytes);
      const cat = fileCategory(ent.name, bytes);
      if (cat && !insideItem(childRel)) items.push({ path: childRel, kind: 'file', category: cat, size: bytes, files: 1 });
      if (isManifestName(childRel)) {
        manifests.add(childRel);
        if (isReadableManifest(childRel) && st.isFile() && bytes <= MANIFEST_MAX && depth < 4) toRead.push(childRel);
      }
    }
    return { size, files };
  };
  /** An item inside an already reported folder (a .log inside node_modules) is not reported again. */
  const insideItem = (rel: string) => rel.split('/').slice(0, -1).some((part) => DIR_CATEGORIES[part] !== undefined);

  try {
    const st = await lstat(root);
    if (!st.isDirectory()) throw Object.assign(new Error(`${root}: not a directory`), { code: 'ENOTDIR' });
  } catch (err) {
    throw asLayerwiseError(err, root);
  }
  const top = await walk('', 0);
  totalSize = top.size;
  totalFiles = top.files;
  const texts = new Map<string, string>();
  for (const rel of toRead) texts.set(rel, await readFile(path.join(root, rel), 'utf8'));
  items.sort((a, b) => b.size - a.size || a.path.localeCompare(b.path));
  const largest = [...topLevel].map(([p, size]) => ({ path: p, size })).sort((a, b) => b.size - a.size || a.path.localeCompare(b.path)).slice(0, 10);
  return { root, ignoreFile, totalSize, totalFiles, excludedSize, excludedFiles, largest, items, manifests, texts, dirs };
}

/** Bytes and files under an excluded folder (reported as "excluded", never read). */
async function dirUsage(abs: string): Promise<{ size: number; files: number }> {
  let size = 0;
  let files = 0;
  const stack = [abs];
  while (stack.length) {
    const d = stack.pop()!;
    let dir;
    try {
      dir = await opendir(d);
    } catch {
      continue;
    }
    for await (const ent of dir) {
      const p = path.join(d, ent.name);
      if (ent.isDirectory()) stack.push(p);
      else {
        try {
          const st = await lstat(p);
          if (st.isFile()) size += st.size;
          files++;
        } catch {
          /* vanished while walking */
        }
      }
    }
  }
  return { size, files };
}
