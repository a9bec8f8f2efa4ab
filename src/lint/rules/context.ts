/** LW501-LW504: what the build context sends and what COPY takes from it. */
import { formatBytes } from '../bytes.js';
import type { Instruction } from '../../dockerfile/model.js';
import type { ContextItem } from '../context.js';
import { coverage, isContextCopy } from '../copies.js';
import type { RawFinding, Rule, RuleContext } from '../types.js';

const CATEGORY_TEXT: Record<ContextItem['category'], string> = {
  vcs: 'version control history',
  dependencies: 'installed dependencies',
  editor: 'editor settings',
  cache: 'tool caches',
  'model-weights': 'model weights',
  logs: 'logs',
  archives: 'an archive',
  secrets: 'a secret',
};

function describe(item: ContextItem): string {
  return `${item.path}${item.kind === 'dir' ? '/' : ''} (${CATEGORY_TEXT[item.category]}, ${formatBytes(item.size)}${item.kind === 'dir' ? `, ${item.files} files` : ''})`;
}

interface Placement {
  item: ContextItem;
  /** The COPY/ADD instructions that copy it as part of a bigger source (COPY . .). */
  copiedBy: Instruction[];
  /** A COPY names it directly: it is wanted. */
  explicit: boolean;
}

function placements(ctx: RuleContext): Placement[] {
  if (!ctx.context) return [];
  const copies = ctx.dockerfile.instructions.filter(isContextCopy);
  return ctx.context.items.map((item) => {
    const copiedBy: Instruction[] = [];
    let explicit = false;
    for (const c of copies) {
      const cov = c.copy!.sources.map((s) => coverage(s, item.path));
      if (cov.includes('explicit')) explicit = true;
      else if (cov.includes('contained')) copiedBy.push(c);
    }
    return { item, copiedBy, explicit };
  });
}

export const missingDockerignore: Rule = {
  meta: {
    id: 'LW501', name: 'missing-dockerignore', severity: 'warning', category: 'context', fixable: false,
    title: 'No .dockerignore while the context holds things images never need',
    why: 'Without .dockerignore the whole folder is sent to the builder on every build (.git alone can be hundreds of MB), and COPY . . puts it into the image and invalidates the cache on every commit.',
    fix: 'Add a .dockerignore next to the Dockerfile listing at least .git, node_modules, .venv, editor folders, logs, model weights and .env files.',
  },
  check: (ctx) => {
    if (!ctx.context || ctx.context.ignoreFile !== undefined) return [];
    const items = ctx.context.items;
    if (!items.length) return [];
    const shown = items.slice(0, 5).map(describe).join(', ');
    return [{ message: `no .dockerignore, and the context holds ${shown}${items.length > 5 ? ` and ${items.length - 5} more` : ''}` }];
  },
};

export const unwantedCopied: Rule = {
  meta: {
    id: 'LW502', name: 'unwanted-files-copied', severity: 'warning', category: 'context', fixable: false,
    title: 'COPY takes files that do not belong in an image',
    why: 'COPY . . copies everything the context sends: history, local dependencies, caches, logs and model files bloat the layer, and a layer that changes with every commit or log line defeats the build cache.',
    fix: 'List them in .dockerignore (or copy only the folders you need); install dependencies inside the build instead of copying local ones.',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const p of placements(ctx)) {
      if (p.explicit || p.item.category === 'secrets' || !p.copiedBy.length) continue;
      const c = p.copiedBy[0]!;
      out.push({ message: `${c.keyword} ${c.args.trim()} copies ${describe(p.item)} into the image`, span: ctx.facts.firstLineSpan(c) });
    }
    return out;
  },
};

export const unwantedSent: Rule = {
  meta: {
    id: 'LW503', name: 'unwanted-files-sent', severity: 'info', category: 'context', fixable: false,
    title: 'Build context sends files no instruction uses',
    why: 'Everything in the context that .dockerignore does not exclude is sent to the builder before the build starts, on every build.',
    fix: 'Add them to .dockerignore.',
  },
  check: (ctx) =>
    placements(ctx)
      .filter((p) => !p.explicit && !p.copiedBy.length)
      .map((p) => ({ message: `the build context sends ${describe(p.item)} that no COPY uses` })),
};

export const secretCopied: Rule = {
  meta: {
    id: 'LW504', name: 'secret-file-copied', severity: 'error', category: 'context', fixable: false,
    title: 'A secret-looking file is copied into the image',
    why: 'Files such as .env, private keys, .npmrc or .pypirc usually hold credentials; once in a layer they are readable by anyone who pulls the image, even if a later step deletes them.',
    fix: 'Exclude them in .dockerignore; pass credentials at run time or with RUN --mount=type=secret during the build.',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const p of placements(ctx)) {
      if (p.explicit || p.item.category !== 'secrets' || !p.copiedBy.length) continue;
      const c = p.copiedBy[0]!;
      out.push({ message: `${c.keyword} ${c.args.trim()} copies ${p.item.path}${p.item.kind === 'dir' ? '/' : ''} (a secret-looking file) into the image`, span: ctx.facts.firstLineSpan(c) });
    }
    return out;
  },
};

export const contextRules: Rule[] = [missingDockerignore, unwantedCopied, unwantedSent, secretCopied];
