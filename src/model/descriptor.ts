import { LayerwiseError } from '../errors.js';
import { parseDigest, type Digest } from './digest.js';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
  features?: string[];
}

/** An OCI content descriptor: what a manifest or index says about a blob. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
  data?: string;
}

/** Checks the shape of a descriptor found in untrusted JSON. */
export function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new LayerwiseError('MANIFEST_INVALID', `${where}: descriptor is not an object`, { subject: where });
  }
  const v = value as Record<string, unknown>;
  if (typeof v.mediaType !== 'string' || v.mediaType.length === 0) {
    throw new LayerwiseError('MANIFEST_INVALID', `${where}: descriptor has no mediaType`, { subject: where });
  }
  const digest = parseDigest(v.digest, `${where}.digest`);
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) {
    throw new LayerwiseError('MANIFEST_INVALID', `${where}: descriptor size ${JSON.stringify(v.size)} is not a non-negative integer`, { subject: where });
  }
  if (v.annotations !== undefined && (typeof v.annotations !== 'object' || v.annotations === null || Array.isArray(v.annotations) || !Object.values(v.annotations).every((a) => typeof a === 'string'))) {
    throw new LayerwiseError('MANIFEST_INVALID', `${where}: annotations must be an object of strings`, { subject: where });
  }
  if (v.platform !== undefined) {
    const p = v.platform as Record<string, unknown> | null;
    const str = (x: unknown) => x === undefined || typeof x === 'string';
    if (!p || typeof p !== 'object' || Array.isArray(p) || typeof p.os !== 'string' || typeof p.architecture !== 'string' || !str(p.variant) || !str(p['os.version'])) {
      throw new LayerwiseError('MANIFEST_INVALID', `${where}: platform must have string os and architecture`, { subject: where });
    }
  }
  return { ...(v as object), mediaType: v.mediaType, digest, size: v.size } as Descriptor;
}

export function platformString(p: Platform | undefined): string {
  if (!p) return 'unknown';
  return `${p.os}/${p.architecture}${p.variant ? '/' + p.variant : ''}`;
}

/** Parses `os/arch[/variant]`, as users type it after --platform. */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p.length === 0)) {
    throw new LayerwiseError('USAGE', `invalid platform ${JSON.stringify(text)} (want os/arch[/variant], e.g. linux/amd64)`);
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** Default platform of this machine, in OCI terms. */
export function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  if (!have) return false;
  if (want.os !== have.os || want.architecture !== have.architecture) return false;
  if (want.variant && have.variant && want.variant !== have.variant) return false;
  // arm64 images usually say variant v8 while users type linux/arm64: treat absent as a match.
  return true;
}
