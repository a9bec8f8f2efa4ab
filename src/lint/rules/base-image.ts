/** LW1xx: the images stages start FROM. */
import type { BaseImage } from '../../dockerfile/model.js';
import type { RawFinding, Rule } from '../types.js';

const images = (bases: BaseImage[]) => bases.filter((b) => b.kind === 'image' && b.name);
const familiar = (b: BaseImage) => b.resolved;

export const noTag: Rule = {
  meta: {
    id: 'LW101', name: 'base-image-no-tag', severity: 'warning', category: 'base-image', fixable: false,
    title: 'Base image without a tag',
    why: 'An image without a tag means :latest, which moves whenever upstream publishes: two builds of the same commit get different bases, and the build cache misses for no change of yours.',
    fix: 'Name a version tag (python:3.12-slim, node:20-bookworm-slim), ideally with its digest (python:3.12-slim@sha256:...).',
  },
  check: ({ dockerfile }) =>
    images(dockerfile.stages.map((s) => s.base))
      .filter((b) => !b.name!.tag && !b.name!.digest)
      .map((b) => ({ message: `base image "${familiar(b)}" has no tag, so it is "${familiar(b)}:latest" and changes whenever upstream publishes`, span: b.span })),
};

export const latestTag: Rule = {
  meta: {
    id: 'LW102', name: 'base-image-latest', severity: 'warning', category: 'base-image', fixable: false,
    title: 'Base image uses the :latest tag',
    why: ':latest is a moving target: rebuilds silently pick up a new OS, runtime or major version, and nobody can tell later which base an image was built on.',
    fix: 'Use a version tag (alpine:3.20, python:3.12-slim), ideally with its digest.',
  },
  check: ({ dockerfile }) =>
    images(dockerfile.stages.map((s) => s.base))
      .filter((b) => b.name!.tag === 'latest' && !b.name!.digest)
      .map((b) => ({ message: `base image "${familiar(b)}" uses the moving :latest tag`, span: b.span })),
};

export const notDigestPinned: Rule = {
  meta: {
    id: 'LW103', name: 'base-image-digest', severity: 'info', category: 'base-image', fixable: false,
    title: 'Base image not pinned by digest',
    why: 'Tags are re-pushed (python:3.12-slim gets a new build every few weeks); only a digest names exactly one image, so builds are reproducible and updates arrive as reviewable changes (Renovate and Dependabot update digests).',
    fix: 'Append the digest: FROM python:3.12-slim@sha256:<digest> (docker buildx imagetools inspect python:3.12-slim shows it).',
  },
  check: ({ dockerfile }) =>
    images(dockerfile.stages.map((s) => s.base))
      .filter((b) => b.name!.tag && b.name!.tag !== 'latest' && !b.name!.digest)
      .map((b) => ({ message: `base image "${familiar(b)}" is pinned by tag only; add @sha256:... to build from exactly the image you tested`, span: b.span })),
};

export const untrustedRegistry: Rule = {
  meta: {
    id: 'LW104', name: 'base-image-untrusted-registry', severity: 'error', category: 'base-image', fixable: false,
    title: 'Base image from a registry outside trustedRegistries',
    why: 'Your configuration lists the registries base images may come from; an image from elsewhere bypasses the review and scanning those registries get.',
    fix: 'Use an image from a trusted registry (mirror it there), or add the registry to lint.trustedRegistries in .layerwise.yml.',
  },
  check: ({ dockerfile, config }) => {
    const trusted = config.trustedRegistries.map((r) => (r === 'index.docker.io' || r === 'hub.docker.com' || r === 'docker.io' ? 'docker.io' : r.toLowerCase()));
    if (!trusted.length) return [];
    return images(dockerfile.stages.map((s) => s.base))
      .filter((b) => !trusted.includes(b.name!.registry.toLowerCase()))
      .map((b) => ({ message: `base image "${familiar(b)}" comes from ${b.name!.registry}, which is not in trustedRegistries (${trusted.join(', ')})`, span: b.span }));
  },
};

/** Official images with a -slim variant of every version, and how the variant tag is formed. */
const SLIM: Record<string, { size: string; variant: (tag: string) => string | undefined }> = {
  'library/python': { size: 'about 1 GB vs 150 MB', variant: (t) => suffixVariant(t, 'slim') },
  'library/ruby': { size: 'about 1 GB vs 200 MB', variant: (t) => suffixVariant(t, 'slim') },
  'library/node': { size: 'about 1.1 GB vs 250 MB', variant: (t) => nodeSlim(t) },
  'library/perl': { size: 'about 900 MB vs 150 MB', variant: (t) => suffixVariant(t, 'slim') },
  'library/debian': { size: 'about 120 MB vs 75 MB', variant: (t) => (/^(\d+|bookworm|bullseye|trixie|buster|stable|testing|oldstable)$/.test(t) ? `${t}-slim` : undefined) },
};

const DEBIAN_RELEASES = /^(.*?)-(bookworm|bullseye|trixie|buster)$/;

/** python:3.12 -> 3.12-slim; python:3.12-bookworm -> 3.12-slim-bookworm. */
function suffixVariant(tag: string, v: string): string | undefined {
  if (/slim|alpine|windows|nanoserver/.test(tag)) return undefined;
  const m = DEBIAN_RELEASES.exec(tag);
  if (m) return `${m[1]}-${v}-${m[2]}`;
  if (/^[\d.]+(rc\d+)?$/.test(tag)) return `${tag}-${v}`;
  return undefined;
}

/** node:20 -> 20-slim; node:20-bookworm -> 20-bookworm-slim; node:lts -> lts-slim. */
function nodeSlim(tag: string): string | undefined {
  if (/slim|alpine|windows/.test(tag)) return undefined;
  if (/^([\d.]+|lts|current)(-(bookworm|bullseye|trixie|buster))?$/.test(tag)) return `${tag}-slim`;
  return undefined;
}

export const slimVariant: Rule = {
  meta: {
    id: 'LW105', name: 'base-image-slim-variant', severity: 'info', category: 'base-image', fixable: false,
    title: 'Final image built on a full base when a slim variant exists',
    why: 'The full official images carry compilers, headers and hundreds of packages you pull and ship with every deploy; the -slim variant has the same runtime in a fraction of the size.',
    fix: 'Use the -slim tag for the final stage, and build anything that needs compilers in an earlier stage.',
  },
  check: ({ facts }) => {
    const stage = facts.finalStage;
    if (!stage || stage.base.kind !== 'image' || !stage.base.name) return [];
    const n = stage.base.name;
    const known = n.registry === 'docker.io' ? SLIM[n.repository] : undefined;
    const variant = known && n.tag ? known.variant(n.tag) : undefined;
    if (!known || !variant) return [];
    const repo = n.repository.replace(/^library\//, '');
    return [{ message: `final stage is based on ${repo}:${n.tag}; ${repo}:${variant} has the same runtime (${known.size})`, span: stage.base.span }];
  },
};

export const unresolvedBase: Rule = {
  meta: {
    id: 'LW106', name: 'base-image-unresolved', severity: 'info', category: 'base-image', fixable: false,
    title: 'Base image depends on a build argument without a default',
    why: 'The image is only known at build time, so neither this linter nor a reader can tell what the build starts from, and a build without --build-arg fails.',
    fix: 'Give the ARG a default: ARG BASE=python:3.12-slim before the first FROM.',
  },
  check: ({ dockerfile }) => {
    const out: RawFinding[] = [];
    for (const s of dockerfile.stages) {
      if (s.base.kind === 'unresolved' && s.base.problem?.startsWith('no value for')) out.push({ message: `base image "${s.base.raw}" has ${s.base.problem}`, span: s.base.span });
    }
    return out;
  },
};

export const baseImageRules: Rule[] = [noTag, latestTag, notDigestPinned, untrustedRegistry, slimVariant, unresolvedBase];
