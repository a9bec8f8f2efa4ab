import { LayerwiseError } from '../errors.js';
import { isDigest, type Digest } from '../model/digest.js';

export type ArchiveSelector = { kind: 'name'; name: string } | { kind: 'index'; index: number } | { kind: 'only' };

/** An image location, in the transport syntax skopeo users already type. */
export type ImageReference =
  | { transport: 'docker-archive'; path: string; selector: ArchiveSelector; raw: string }
  | { transport: 'oci'; path: string; tag: string | undefined; raw: string }
  | { transport: 'oci-archive'; path: string; tag: string | undefined; raw: string }
  | { transport: 'docker-daemon'; name: string; raw: string }
  | { transport: 'docker'; registry: string; repository: string; tag: string | undefined; digest: Digest | undefined; raw: string };

export const TRANSPORTS = ['docker-archive', 'oci', 'oci-archive', 'docker-daemon', 'docker'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const REPO_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

export interface DockerName {
  registry: string;
  repository: string;
  tag: string | undefined;
  digest: Digest | undefined;
}

/**
 * Parses a Docker image name the way the docker CLI does: the first component is a registry only when
 * it has a dot or a port or is "localhost"; Docker Hub names get "library/" when they have one component.
 */
export function parseDockerName(text: string, where = 'image name'): DockerName {
  let rest = text;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw new LayerwiseError('REFERENCE_INVALID', `${where}: invalid digest in ${JSON.stringify(text)}`);
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw new LayerwiseError('REFERENCE_INVALID', `${where}: invalid tag ${JSON.stringify(tag)} in ${JSON.stringify(text)}`);
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    parts.shift();
  }
  if (registry === 'index.docker.io') registry = 'docker.io';
  if (parts.length === 0 || parts.some((p) => !REPO_COMPONENT_RE.test(p))) {
    throw new LayerwiseError('REFERENCE_INVALID', `${where}: invalid repository name in ${JSON.stringify(text)} (lowercase letters, digits and separators)`);
  }
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  return { registry, repository: parts.join('/'), tag, digest };
}

/** The full form docker uses internally: docker.io/library/busybox:latest. */
export function normalizeImageName(text: string): string {
  try {
    const n = parseDockerName(text);
    return `${n.registry}/${n.repository}${n.digest ? '@' + n.digest : ':' + (n.tag ?? 'latest')}`;
  } catch {
    return text;
  }
}

/** The short form docker shows: busybox:latest, foo/bar:1, localhost:5000/x:1. */
export function familiarName(text: string): string {
  const n = parseDockerName(text);
  let repo = n.repository;
  if (n.registry === 'docker.io' && repo.startsWith('library/')) repo = repo.slice(8);
  const host = n.registry === 'docker.io' ? '' : `${n.registry}/`;
  return `${host}${repo}${n.digest ? '@' + n.digest : ':' + (n.tag ?? 'latest')}`;
}

function splitPath(rest: string): [string, string | undefined] {
  const i = rest.indexOf(':');
  return i < 0 ? [rest, undefined] : [rest.slice(0, i), rest.slice(i + 1)];
}

export function parseReference(text: string): ImageReference {
  const colon = text.indexOf(':');
  const transport = colon < 0 ? '' : text.slice(0, colon);
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  switch (transport) {
    case 'docker-archive': {
      const [path, sel] = splitPath(rest);
      if (!path) throw new LayerwiseError('REFERENCE_INVALID', `${text}: docker-archive needs a path`);
      let selector: ArchiveSelector = { kind: 'only' };
      if (sel !== undefined && sel !== '') {
        if (/^@\d+$/.test(sel)) selector = { kind: 'index', index: Number(sel.slice(1)) };
        else {
          parseDockerName(sel, text);
          selector = { kind: 'name', name: sel };
        }
      }
      return { transport, path, selector, raw: text };
    }
    case 'oci':
    case 'oci-archive': {
      const [path, tag] = splitPath(rest);
      if (!path) throw new LayerwiseError('REFERENCE_INVALID', `${text}: ${transport} needs a path`);
      return { transport, path, tag: tag === '' ? undefined : tag, raw: text };
    }
    case 'docker-daemon': {
      if (!rest) throw new LayerwiseError('REFERENCE_INVALID', `${text}: docker-daemon needs an image name or ID`);
      if (!isDigest(rest) && !/^[0-9a-f]{12,64}$/.test(rest)) parseDockerName(rest, text);
      return { transport, name: rest, raw: text };
    }
    case 'docker': {
      if (!rest.startsWith('//')) throw new LayerwiseError('REFERENCE_INVALID', `${text}: registry references are written docker://HOST/REPO[:TAG|@DIGEST]`);
      const n = parseDockerName(rest.slice(2), text);
      return { transport, registry: n.registry, repository: n.repository, tag: n.digest ? n.tag : n.tag ?? 'latest', digest: n.digest, raw: text };
    }
    default: {
      const hint = transport ? `unknown transport "${transport}"` : 'no transport given';
      throw new LayerwiseError('TRANSPORT_UNKNOWN', `${text}: ${hint}; use one of ${TRANSPORTS.map((t) => (t === 'docker' ? 'docker://' : t + ':')).join(', ')}`, { subject: text });
    }
  }
}
