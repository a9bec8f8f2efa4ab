import { LayerwiseError, type ErrorCode } from '../../errors.js';

/**
 * An error from talking to a registry. `transient` marks what is worth another try (5xx, 429, dropped
 * connections); everything else is final. It is a LayerwiseError, so the CLI shows it as one line.
 */
export class RegistryError extends LayerwiseError {
  readonly transient: boolean;
  readonly status: number | undefined;
  /** The distribution-spec error codes from the response body (NAME_UNKNOWN, MANIFEST_UNKNOWN...). */
  readonly registryCodes: readonly string[];

  constructor(code: ErrorCode, message: string, opts: { transient?: boolean; status?: number; registryCodes?: string[]; subject?: string; cause?: unknown } = {}) {
    super(code, message, { subject: opts.subject, cause: opts.cause });
    this.transient = opts.transient ?? false;
    this.status = opts.status;
    this.registryCodes = opts.registryCodes ?? [];
  }
}

export function isTransient(err: unknown): boolean {
  return err instanceof RegistryError && err.transient;
}

export interface RegistryErrorEntry {
  code: string;
  message?: string;
}

/** Reads the `{"errors":[{code,message,detail}]}` body the distribution spec defines; anything else yields []. */
export function parseErrorBody(body: Buffer): RegistryErrorEntry[] {
  try {
    const v = JSON.parse(body.toString('utf8')) as { errors?: unknown };
    if (!v || !Array.isArray(v.errors)) return [];
    return v.errors
      .filter((e): e is { code: string; message?: unknown } => !!e && typeof e === 'object' && typeof (e as { code?: unknown }).code === 'string')
      .map((e) => ({ code: e.code, ...(typeof e.message === 'string' ? { message: e.message } : {}) }));
  } catch {
    return [];
  }
}

/** What a request was about, so a status code becomes a sentence a user understands. */
export interface RequestContext {
  /** host[:port] as the user wrote it. */
  registry: string;
  repository?: string;
  /** "tag \"1.0\"", "manifest sha256:...", "blob sha256:..." */
  object?: string;
  /** "pull", "push", "ping", "token". */
  action: string;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** Maps an unexpected HTTP response to a typed error with a stable code. */
export function errorForResponse(ctx: RequestContext, status: number, body: Buffer, wwwAuthenticate?: string): RegistryError {
  const entries = parseErrorBody(body);
  const codes = entries.map((e) => e.code);
  const detail = entries.length ? entries.map((e) => `${e.code}${e.message ? ': ' + oneLine(e.message) : ''}`).join('; ') : oneLine(body.toString('utf8'));
  const where = ctx.repository ? `${ctx.registry}/${ctx.repository}` : ctx.registry;
  const opts = { status, registryCodes: codes, subject: where };
  if (status === 401 || status === 403 || codes.includes('UNAUTHORIZED') || codes.includes('DENIED')) {
    const scope = /error="insufficient_scope"/.test(wwwAuthenticate ?? '') || status === 403 || codes.includes('DENIED');
    const why = scope ? `not allowed to ${ctx.action} (insufficient scope or permissions)` : `authentication required to ${ctx.action} (give --creds USER:PASSWORD or log in with docker login)`;
    return new RegistryError('REGISTRY_AUTH', `${where}: ${why} (HTTP ${status}${detail ? ', ' + detail : ''})`, opts);
  }
  if (status === 404 || codes.includes('NAME_UNKNOWN') || codes.includes('MANIFEST_UNKNOWN') || codes.includes('BLOB_UNKNOWN')) {
    if (codes.includes('NAME_UNKNOWN')) {
      return new RegistryError('REGISTRY_NOT_FOUND', `${ctx.registry}: repository "${ctx.repository ?? '?'}" not found`, opts);
    }
    if (ctx.object) return new RegistryError('REGISTRY_NOT_FOUND', `${where}: ${ctx.object} not found`, opts);
    return new RegistryError('REGISTRY_NOT_FOUND', `${where}: not found (HTTP 404${detail ? ', ' + detail : ''})`, opts);
  }
  if (codes.includes('DIGEST_INVALID') || codes.includes('SIZE_INVALID')) {
    return new RegistryError('DIGEST_MISMATCH', `${where}: the registry refused ${ctx.object ?? 'the upload'}: the bytes it received do not match their digest (${detail})`, opts);
  }
  const transient = status >= 500 || status === 429 || status === 408;
  return new RegistryError('REGISTRY_ERROR', `${where}: ${ctx.action} failed with HTTP ${status}${detail ? ' (' + detail + ')' : ''}`, { ...opts, transient });
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'CERT_NOT_YET_VALID',
]);

/** Network-level failures: refused, reset, timed out, TLS not trusted. */
export function errorForNetwork(registry: string, err: unknown, what = 'registry'): LayerwiseError {
  if (err instanceof LayerwiseError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const msg = oneLine(e?.message ?? String(err));
  if (code && TLS_CODES.has(code)) {
    return new RegistryError('REGISTRY_TLS', `${registry}: TLS certificate not trusted (${msg}); pass --ca-file with its CA, or --insecure for a test registry`, { subject: registry, cause: err });
  }
  if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long/i.test(msg)) {
    return new RegistryError('REGISTRY_TLS', `${registry}: TLS handshake failed (${msg}); a plain-HTTP registry needs --insecure`, { subject: registry, cause: err });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new RegistryError('REGISTRY_UNREACHABLE', `${registry}: ${what} host not found (${msg})`, { subject: registry, cause: err, transient: code === 'EAI_AGAIN' });
  }
  return new RegistryError('REGISTRY_UNREACHABLE', `${registry}: ${what} unreachable (${msg})`, { subject: registry, cause: err, transient: true });
}
