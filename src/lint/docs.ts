/** docs/lint-rules.md, generated from the rule metadata (npm run docs:lint); a test keeps the file in sync. */
import { RULES } from './rules/index.js';
import type { RuleCategory } from './types.js';

const CATEGORY_TITLE: Record<RuleCategory, string> = {
  syntax: 'Syntax',
  'base-image': 'Base images',
  packages: 'Package managers',
  layers: 'Layers and build cache',
  'final-stage': 'Final image',
  instructions: 'Instructions',
  secrets: 'Secrets',
  context: 'Build context',
  drift: 'Dependency drift',
};

export function renderRulesDoc(): string {
  let out = `# layerwise lint rules

<!-- Generated from the rule metadata in src/lint/rules/ by \`npm run docs:lint\`; do not edit by hand. -->

\`layerwise lint [Dockerfile|DIR ...]\` checks Dockerfiles for what makes images big, builds slow
and rebuilds different: base images, package-manager habits, layer order, what the final image
contains, what the build context sends, and dependency versions that drift.

- **Which stages.** Rules about image size (caches, lists, recommends, merged RUNs, build tools, root)
  look at the *final* stage and the stages it is built \`FROM\` (their layers are the image's layers);
  \`--target STAGE\` picks another final stage. Rules about caching, pinning and secrets look at every stage.
- **Build context.** The Dockerfile's folder (or \`--context DIR\`) is walked with \`.dockerignore\`
  applied exactly as Docker does (\`<Dockerfile>.dockerignore\` beside the Dockerfile wins, as in
  BuildKit). The report shows the context size and its largest entries. \`--no-context\` skips it.
- **Configuration.** \`.layerwise.yml\` in the current folder (or \`--config FILE\`), section \`lint:\`:

  \`\`\`yaml
  lint:
    failOn: warning          # error | warning | info | never (exit code 1 at or above it)
    disable: [LW103]
    severity: { LW301: warning }
    trustedRegistries: [docker.io, ghcr.io]   # enables LW104
  \`\`\`
- **Inline ignores.** \`# layerwise ignore=LW202,LW203\` on the comment line(s) right above an
  instruction; \`# layerwise ignore-file=LW103\` anywhere ignores a rule for the whole file.
- **\`--fix\`** applies the fixes marked *fixable* below (only where the rewrite cannot change what
  the build does), shows the diff, and reports what is left. \`--fix --dry-run\` only shows the diff.
- **Output.** Terminal (source line and caret), \`--format json\`, \`--format sarif\` (SARIF 2.1.0).

| id | severity | fixable | rule |
|---|---|---|---|
`;
  for (const r of RULES) out += `| [${r.meta.id}](#${r.meta.id.toLowerCase()}) | ${r.meta.severity} | ${r.meta.fixable ? 'yes' : ''} | ${r.meta.title} |\n`;
  for (const category of Object.keys(CATEGORY_TITLE) as RuleCategory[]) {
    const rules = RULES.filter((r) => r.meta.category === category);
    if (!rules.length) continue;
    out += `\n## ${CATEGORY_TITLE[category]}\n`;
    for (const r of rules) {
      out += `\n### ${r.meta.id}\n\n**${r.meta.title}** (\`${r.meta.name}\`): ${r.meta.severity}${r.meta.fixable ? ', fixable with `--fix`' : ''}.\n\n`;
      out += `- **Why:** ${r.meta.why}\n- **Fix:** ${r.meta.fix}\n`;
    }
  }
  return out;
}
