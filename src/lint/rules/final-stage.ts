/** LW401-LW409: what the final image contains and how it runs; instruction hygiene; secrets in ENV/ARG. */
import type { BaseImage, Instruction } from '../../dockerfile/model.js';
import { expandWord } from '../../dockerfile/variables.js';
import { isContextCopy } from '../copies.js';
import { osPackages } from '../steps.js';
import type { RawFinding, Rule, RuleContext } from '../types.js';
import { shippedStages } from './scope.js';

function shippedInstructions(ctx: RuleContext): Instruction[] {
  return shippedStages(ctx).flatMap((s) => s.instructions);
}

/** The image the final stage ultimately starts from (following FROM <stage>). */
function rootBase(ctx: RuleContext): BaseImage | undefined {
  const stages = shippedStages(ctx);
  return stages[0]?.base;
}

function nonRootBase(base: BaseImage | undefined): boolean {
  if (!base || base.kind !== 'image' || !base.name) return false;
  const n = base.name;
  return /non-?root/.test(n.tag ?? '') || n.registry === 'cgr.dev' || /unprivileged/.test(n.repository) || n.repository.startsWith('bitnami/');
}

export const runsAsRoot: Rule = {
  meta: {
    id: 'LW401', name: 'final-stage-root', severity: 'warning', category: 'final-stage', fixable: false,
    title: 'Final image runs as root',
    why: 'Without a USER the container runs as root (uid 0): a compromised process owns the whole container filesystem and is one kernel or runtime bug away from the host.',
    fix: 'Create an unprivileged user and switch to it at the end: RUN useradd --system --uid 10001 app / USER 10001 (or use a base that does, such as distroless :nonroot).',
  },
  check: (ctx) => {
    const stage = ctx.facts.finalStage;
    if (!stage) return [];
    const users = shippedInstructions(ctx).filter((i) => i.keyword === 'USER');
    const last = users[users.length - 1];
    if (last) {
      const user = (last.user ?? '').split(':')[0]!;
      if (user === 'root' || user === '0') return [{ message: `the final image runs as ${user === '0' ? 'uid 0' : 'root'} (USER ${last.args.trim()} is the last USER)`, span: ctx.facts.firstLineSpan(last) }];
      return [];
    }
    if (nonRootBase(rootBase(ctx))) return [];
    return [{ message: 'the final stage has no USER instruction, so the container runs as root', span: stage.base.span }];
  },
};

const BUILD_TOOL = /^(build-essential|gcc|gcc-\d+|g\+\+|g\+\+-\d+|clang|clang-\d+|llvm|make|cmake|ninja-build|autoconf|automake|libtool|pkg-config|pkgconf|musl-dev|linux-headers|libc6-dev|libc-dev|golang|golang-go|go|rustc|cargo|maven|gradle|gcc-c\+\+|alpine-sdk|openjdk-\d+-jdk|openjdk-\d+-jdk-headless|openjdk\d+|java-\d+-openjdk-devel|.+-dev|.+-devel)$/;

function packageName(spec: string): string {
  return spec.replace(/[=<>~].*$/, '');
}

export const buildToolsShipped: Rule = {
  meta: {
    id: 'LW402', name: 'build-tools-in-final-stage', severity: 'warning', category: 'final-stage', fixable: false,
    title: 'Compilers or -dev packages installed in the final image',
    why: 'Compilers, headers and build tools are needed to build, not to run: in the final image they add hundreds of MB and hand an attacker a toolchain.',
    fix: 'Use a multi-stage build: compile or build wheels in a builder stage with build-essential/-dev packages, then COPY --from=builder only the results into a slim final stage (installing just the runtime libraries).',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const ins of shippedInstructions(ctx)) {
      const run = ctx.facts.run(ins);
      if (!run) continue;
      // Packages removed again in the same RUN (apt-get purge, apk del .build-deps, dnf remove) do not ship.
      const removed = new Set<string>();
      for (const t of run.tools) {
        if ((t.tool === 'apt-get' && (t.subcommand === 'purge' || t.subcommand === 'remove')) || (t.tool === 'apk' && t.subcommand === 'del') || ((t.tool === 'dnf' || t.tool === 'yum') && (t.subcommand === 'remove' || t.subcommand === 'erase'))) {
          for (const w of t.operands) removed.add(packageName(w.value));
        }
      }
      for (const t of run.tools) {
        const virtual = t.tool === 'apk' ? t.options.find((o) => o.name === '--virtual' || o.name === '-t')?.value : undefined;
        if (virtual && removed.has(virtual)) continue;
        const tools = osPackages(t).map(packageName).filter((p) => BUILD_TOOL.test(p) && !removed.has(p));
        if (!tools.length) continue;
        out.push({ message: `build tools in the final image: ${tools.join(', ')}; build in an earlier stage and copy only the results`, span: ctx.facts.wordSpan(ins, t.subcommandWord, t.nested) });
      }
    }
    return out;
  },
};

const TOOLCHAIN: { match: (repo: string, tag: string, registry: string) => boolean; instead: string }[] = [
  { match: (r) => r === 'library/golang', instead: 'gcr.io/distroless/static or scratch for a static binary' },
  { match: (r) => r === 'library/rust', instead: 'debian:bookworm-slim or gcr.io/distroless/cc' },
  { match: (r) => r === 'library/maven' || r === 'library/gradle', instead: 'eclipse-temurin:<version>-jre' },
  { match: (r, t) => (r === 'library/eclipse-temurin' || r === 'library/amazoncorretto' || r === 'library/openjdk') && !/jre/.test(t), instead: 'eclipse-temurin:<version>-jre' },
  { match: (r) => r === 'library/gcc', instead: 'debian:bookworm-slim' },
  { match: (r, _t, reg) => reg === 'mcr.microsoft.com' && r === 'dotnet/sdk', instead: 'mcr.microsoft.com/dotnet/aspnet or dotnet/runtime' },
  { match: (r, t) => r === 'nvidia/cuda' && /devel/.test(t), instead: 'the matching nvidia/cuda ...-runtime-... (or -base-) tag' },
];

export const toolchainBase: Rule = {
  meta: {
    id: 'LW403', name: 'toolchain-final-base', severity: 'warning', category: 'final-stage', fixable: false,
    title: 'Final image based on a build toolchain image',
    why: 'SDK images (golang, maven, rust, JDK, CUDA -devel) are several times larger than what the program needs to run, and ship compilers into production.',
    fix: 'Build in a stage FROM the toolchain image and start the final stage FROM a runtime image (distroless, -jre, -runtime), copying only the build output.',
  },
  check: (ctx) => {
    const base = rootBase(ctx);
    if (!base || base.kind !== 'image' || !base.name) return [];
    const n = base.name;
    const hit = TOOLCHAIN.find((t) => t.match(n.repository, n.tag ?? '', n.registry));
    if (!hit) return [];
    return [{ message: `the final image is built on the toolchain image ${base.resolved}; run from ${hit.instead}`, span: base.span }];
  },
};

const ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst)$/i;
const REMOTE = /^(https?:\/\/|git@|git:\/\/|ssh:\/\/)|\.git(#.*)?$/;

export const addInsteadOfCopy: Rule = {
  meta: {
    id: 'LW404', name: 'add-instead-of-copy', severity: 'warning', category: 'instructions', fixable: false,
    title: 'ADD used where COPY does the job',
    why: 'ADD also downloads URLs and unpacks local tar archives, so a reader cannot tell what it does without knowing the files; COPY does exactly one thing.',
    fix: 'Use COPY for local files and folders; keep ADD only to unpack a local tar archive or fetch a URL with --checksum.',
  },
  check: (ctx) =>
    ctx.dockerfile.instructions
      .filter((i) => i.keyword === 'ADD' && i.copy && isContextCopy(i))
      .filter((i) => i.copy!.sources.length > 0 && i.copy!.sources.every((s) => !ARCHIVE.test(s) && !REMOTE.test(s)))
      .map((i) => ({ message: `ADD ${i.copy!.sources.join(' ')} copies local files; use COPY`, span: ctx.facts.keywordSpan(i) })),
};

const SECRET_NAME = /(^|_)(PASSWORD|PASSWD|SECRET|SECRETS|TOKEN|API_?KEY|APIKEY|PRIVATE_?KEY|ACCESS_?KEY(_ID)?|SECRET_?KEY|CLIENT_SECRET|CREDENTIALS?|AUTH_TOKEN|BEARER|NPM_TOKEN|GH_TOKEN|GITHUB_TOKEN)($|_)/i;
const NOT_SECRET = /(_FILE|_PATH|_DIR|_URL|_URI|_NAME|_USER|_USERNAME|_HEADER|_TYPE|_ENABLED|_LENGTH|_ID_FILE)$/i;

export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name) && !NOT_SECRET.test(name);
}

export const secretEnv: Rule = {
  meta: {
    id: 'LW405', name: 'secret-in-env', severity: 'error', category: 'secrets', fixable: false,
    title: 'Secret-looking value set with ENV',
    why: 'ENV values are stored in the image configuration: anyone who can pull the image reads them with docker inspect, in every registry and cache the image reaches.',
    fix: 'Pass secrets at run time (environment, mounted files, a secret manager); for build-time use, RUN --mount=type=secret,id=name reads it without storing it.',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const ins of ctx.dockerfile.instructions) {
      if (ins.keyword !== 'ENV') continue;
      for (const v of ins.variables ?? []) {
        if (!looksSecret(v.name) || !v.value) continue;
        out.push({ message: `ENV ${v.name} stores a secret-looking value in the image configuration`, span: v.span });
      }
    }
    return out;
  },
};

export const secretArg: Rule = {
  meta: {
    id: 'LW406', name: 'secret-in-arg', severity: 'warning', category: 'secrets', fixable: false,
    title: 'Secret-looking build argument',
    why: 'Build arguments are recorded in the image history (docker history shows them for every RUN that used them) and in the build cache.',
    fix: 'Use a build secret: RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN npm ci, with docker build --secret id=npm_token,env=NPM_TOKEN.',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const ins of ctx.dockerfile.instructions) {
      if (ins.keyword !== 'ARG') continue;
      for (const v of ins.variables ?? []) if (looksSecret(v.name)) out.push({ message: `ARG ${v.name} looks like a secret; build arguments are kept in the image history`, span: v.span });
    }
    return out;
  },
};

export const missingHealthcheck: Rule = {
  meta: {
    id: 'LW407', name: 'service-without-healthcheck', severity: 'info', category: 'final-stage', fixable: false,
    title: 'Service image without HEALTHCHECK',
    why: 'The image exposes a port, so it runs a service; without a HEALTHCHECK, Docker and Compose only know whether the process exists, not whether it answers.',
    fix: 'Add HEALTHCHECK CMD <a cheap probe> (curl -fsS http://localhost:8080/health || exit 1), or HEALTHCHECK NONE when an orchestrator probes instead.',
  },
  check: (ctx) => {
    const ins = shippedInstructions(ctx);
    if (ins.some((i) => i.keyword === 'HEALTHCHECK')) return [];
    const exposes = ins.filter((i) => i.keyword === 'EXPOSE');
    const last = exposes[exposes.length - 1];
    return last ? [{ message: `the image exposes ${last.args.trim()} but has no HEALTHCHECK`, span: ctx.facts.firstLineSpan(last) }] : [];
  },
};

export const maintainer: Rule = {
  meta: {
    id: 'LW408', name: 'maintainer-deprecated', severity: 'warning', category: 'instructions', fixable: false,
    title: 'MAINTAINER is deprecated',
    why: 'MAINTAINER has been deprecated since Docker 1.13; tools read the OCI label instead.',
    fix: 'Use LABEL org.opencontainers.image.authors="name <email>".',
  },
  check: (ctx) => ctx.dockerfile.instructions.filter((i) => i.keyword === 'MAINTAINER').map((i) => ({ message: 'MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors', span: ctx.facts.keywordSpan(i) })),
};

export const relativeWorkdir: Rule = {
  meta: {
    id: 'LW409', name: 'relative-workdir', severity: 'warning', category: 'instructions', fixable: false,
    title: 'Relative WORKDIR',
    why: 'A relative WORKDIR is resolved against whatever the previous WORKDIR was, including one set by the base image; a base image update can silently move your files.',
    fix: 'Use an absolute path: WORKDIR /app.',
  },
  check: (ctx) => {
    const out: RawFinding[] = [];
    for (const ins of ctx.dockerfile.instructions) {
      if (ins.keyword !== 'WORKDIR') continue;
      const e = expandWord(ins.args.trim(), (n) => ins.scope.get(n)?.value, ctx.dockerfile.escape);
      if (e.unresolved.length || e.value === '') continue;
      if (e.value.startsWith('/') || /^[A-Za-z]:[\\/]/.test(e.value)) continue;
      out.push({ message: `WORKDIR ${e.value} is relative; use an absolute path`, span: ctx.facts.firstLineSpan(ins) });
    }
    return out;
  },
};

export const finalStageRules: Rule[] = [runsAsRoot, buildToolsShipped, toolchainBase, addInsteadOfCopy, secretEnv, secretArg, missingHealthcheck, maintainer, relativeWorkdir];
