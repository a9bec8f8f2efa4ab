import { LayerwiseError } from '../errors.js';
import { parseDescriptor, type Descriptor } from './descriptor.js';
import { parseJsonBytes } from './json.js';
import { isIndexMediaType, isManifestMediaType, MediaType } from './media-types.js';

/** An image manifest: OCI image manifest v1 or Docker image manifest v2 schema 2 (same shape). */
export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** An OCI image index or a Docker manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

function asObject(value: unknown, where: string, code: 'MANIFEST_INVALID' | 'INDEX_INVALID'): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new LayerwiseError(code, `${where}: not a JSON object`, { subject: where });
  }
  return value as Record<string, unknown>;
}

/**
 * What a manifest-ish blob is. The media type inside the JSON wins over what a transport claimed
 * (a registry's Content-Type can lie); without one, the shape decides.
 */
export function sniffManifestKind(value: Record<string, unknown>, claimed?: string): 'manifest' | 'index' {
  const mt = typeof value.mediaType === 'string' ? value.mediaType : undefined;
  const hasManifests = Array.isArray(value.manifests);
  const hasLayers = Array.isArray(value.layers) || (value.config !== undefined && typeof value.config === 'object');
  if (mt && isIndexMediaType(mt)) return 'index';
  if (mt && isManifestMediaType(mt)) return 'manifest';
  if (hasManifests && !hasLayers) return 'index';
  if (hasLayers && !hasManifests) return 'manifest';
  if (claimed && isIndexMediaType(claimed)) return 'index';
  return 'manifest';
}

export function parseManifest(bytes: Uint8Array, where: string): Manifest {
  const v = asObject(parseJsonBytes(bytes, where, 'MANIFEST_INVALID'), where, 'MANIFEST_INVALID');
  if (v.schemaVersion !== 2) {
    throw new LayerwiseError('MANIFEST_INVALID', `${where}: schemaVersion ${JSON.stringify(v.schemaVersion)} is not supported (want 2)`, { subject: where });
  }
  if (v.mediaType !== undefined && (typeof v.mediaType !== 'string' || !isManifestMediaType(v.mediaType))) {
    if (typeof v.mediaType === 'string' && isIndexMediaType(v.mediaType)) {
      throw new LayerwiseError('MANIFEST_INVALID', `${where}: expected an image manifest but this is an index (${v.mediaType})`, { subject: where });
    }
    throw new LayerwiseError('MEDIA_TYPE_UNSUPPORTED', `${where}: unsupported manifest media type ${JSON.stringify(v.mediaType)}`, { subject: where });
  }
  if (Array.isArray(v.manifests)) {
    throw new LayerwiseError('MANIFEST_INVALID', `${where}: expected an image manifest but found an index (has "manifests")`, { subject: where });
  }
  if (!Array.isArray(v.layers)) {
    throw new LayerwiseError('MANIFEST_INVALID', `${where}: manifest has no "layers" array`, { subject: where });
  }
  const config = parseDescriptor(v.config, `${where}: config`);
  const layers = v.layers.map((l, i) => parseDescriptor(l, `${where}: layers[${i}]`));
  const subject = v.subject === undefined ? undefined : parseDescriptor(v.subject, `${where}: subject`);
  return { ...(v as object), schemaVersion: 2, config, layers, ...(subject ? { subject } : {}) } as Manifest;
}

export function parseIndex(bytes: Uint8Array, where: string): ImageIndex {
  const v = asObject(parseJsonBytes(bytes, where, 'INDEX_INVALID'), where, 'INDEX_INVALID');
  if (v.schemaVersion !== 2) {
    throw new LayerwiseError('INDEX_INVALID', `${where}: schemaVersion ${JSON.stringify(v.schemaVersion)} is not supported (want 2)`, { subject: where });
  }
  if (v.mediaType !== undefined && (typeof v.mediaType !== 'string' || !isIndexMediaType(v.mediaType))) {
    throw new LayerwiseError('INDEX_INVALID', `${where}: expected an image index but media type is ${JSON.stringify(v.mediaType)}`, { subject: where });
  }
  if (!Array.isArray(v.manifests)) {
    throw new LayerwiseError('INDEX_INVALID', `${where}: index has no "manifests" array`, { subject: where });
  }
  if (v.layers !== undefined || v.config !== undefined) {
    // Both shapes at once: readers that trust the media type and readers that trust the shape would disagree.
    throw new LayerwiseError('INDEX_INVALID', `${where}: has "manifests" and also "${v.layers !== undefined ? 'layers' : 'config'}": neither an index nor a manifest`, { subject: where });
  }
  const manifests = v.manifests.map((m, i) => parseDescriptor(m, `${where}: manifests[${i}]`));
  return { ...(v as object), schemaVersion: 2, manifests } as ImageIndex;
}

/** Parses bytes that may be a manifest or an index, deciding by the JSON itself. */
export function parseManifestOrIndex(bytes: Uint8Array, where: string, claimedMediaType?: string):
  | { kind: 'manifest'; manifest: Manifest }
  | { kind: 'index'; index: ImageIndex } {
  const v = asObject(parseJsonBytes(bytes, where, 'MANIFEST_INVALID'), where, 'MANIFEST_INVALID');
  const kind = sniffManifestKind(v, claimedMediaType);
  return kind === 'index' ? { kind, index: parseIndex(bytes, where) } : { kind, manifest: parseManifest(bytes, where) };
}

/** The media type a manifest should be served and stored under. */
export function manifestMediaType(m: Manifest): string {
  if (m.mediaType) return m.mediaType;
  return m.config.mediaType === MediaType.DockerConfig ? MediaType.DockerManifest : MediaType.OciManifest;
}

/** Canonical JSON bytes for a manifest layerwise writes itself (sources keep their original bytes). */
export function manifestToBytes(m: Manifest | ImageIndex): Buffer {
  return Buffer.from(JSON.stringify(m), 'utf8');
}
