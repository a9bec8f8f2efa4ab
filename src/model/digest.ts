import { createHash } from 'node:crypto';
import { LayerwiseError } from '../errors.js';

/**
 * A content digest, always `sha256:` followed by 64 lowercase hex characters.
 * Branded so that an unchecked string can never reach a path join: every Digest passed through parseDigest.
 */
export type Digest = string & { readonly __digest: unique symbol };

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && DIGEST_RE.test(value);
}

/** Validates a digest string; anything but `sha256:<64 hex>` is refused before it can be used as a path. */
export function parseDigest(value: unknown, where = 'digest'): Digest {
  if (isDigest(value)) return value;
  // Never String(value): untrusted JSON can be {"toString": 0}, which throws.
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 100 ? value.slice(0, 100) + '…' : value) : (JSON.stringify(value) ?? typeof value).slice(0, 100);
  throw new LayerwiseError('DIGEST_INVALID', `${where}: invalid digest ${shown} (want sha256:<64 hex>)`, { subject: where });
}

/** The 64 hex characters of a digest, safe to use as a file name. */
export function digestHex(digest: Digest): string {
  return digest.slice(7);
}

export function digestFromHex(hex: string, where = 'digest'): Digest {
  return parseDigest(`sha256:${hex}`, where);
}

export function sha256(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
}

/** chainID per the OCI image spec: ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const diffId of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? diffId : sha256(`${prev} ${diffId}`));
  }
  return out;
}
