/**
 * Typed errors with stable codes. Callers and tests match on `code`, never on message text.
 * The CLI maps every LayerwiseError to a one-line message and a non-zero exit code in one place.
 */
export type ErrorCode =
  // digests and verification
  | 'DIGEST_INVALID'
  | 'DIGEST_MISMATCH'
  | 'SIZE_MISMATCH'
  | 'DIFFID_MISMATCH'
  // image structure
  | 'BLOB_MISSING'
  | 'MANIFEST_INVALID'
  | 'CONFIG_INVALID'
  | 'INDEX_INVALID'
  | 'MEDIA_TYPE_UNSUPPORTED'
  | 'PLATFORM_NOT_FOUND'
  | 'IMAGE_NOT_FOUND'
  | 'IMAGE_AMBIGUOUS'
  | 'JSON_TOO_LARGE'
  // references and transports
  | 'TRANSPORT_UNKNOWN'
  | 'REFERENCE_INVALID'
  | 'DESTINATION_EXISTS'
  // archives
  | 'TAR_TRUNCATED'
  | 'TAR_INVALID_HEADER'
  | 'TAR_BAD_CHECKSUM'
  | 'TAR_PATH_UNSAFE'
  | 'TAR_LINK_UNSAFE'
  | 'TAR_DUPLICATE_ENTRY'
  | 'TAR_HEADER_TOO_LARGE'
  | 'TAR_TRAILING_DATA'
  | 'TAR_UNSUPPORTED_ENTRY'
  | 'WHITEOUT_INVALID'
  | 'DECOMPRESSION_BOMB'
  | 'COMPRESSION_INVALID'
  | 'COMPRESSION_UNSUPPORTED'
  // engine and registry
  | 'ENGINE_UNREACHABLE'
  | 'ENGINE_ERROR'
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_AUTH'
  | 'REGISTRY_NOT_FOUND'
  | 'REGISTRY_ERROR'
  | 'REGISTRY_TLS'
  // patches and bundles
  | 'PATCH_INVALID'
  | 'PATCH_CORRUPT'
  | 'PATCH_VERSION'
  | 'PATCH_BASE_MISSING'
  | 'PATCH_BASE_MISMATCH'
  | 'BUNDLE_INVALID'
  | 'COMPOSE_INVALID'
  | 'COMPOSE_VARIABLE_MISSING'
  // analyze
  | 'ANALYZE_CONFIG_INVALID'
  // lint
  | 'LINT_CONFIG_INVALID'
  | 'LINT_TARGET_NOT_FOUND'
  // plan
  | 'PLAN_INPUT_INVALID'
  | 'FLEET_INVALID'
  // general
  | 'USAGE'
  | 'IO'
  | 'INTERNAL';

export class LayerwiseError extends Error {
  readonly code: ErrorCode;
  /** The file, blob or reference the problem is about, when there is one. */
  readonly subject: string | undefined;

  constructor(code: ErrorCode, message: string, options: { subject?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LayerwiseError';
    this.code = code;
    this.subject = options.subject;
  }
}

export function isLayerwiseError(err: unknown, code?: ErrorCode): err is LayerwiseError {
  return err instanceof LayerwiseError && (code === undefined || err.code === code);
}

/** Wraps a foreign error (fs, network) into a LayerwiseError while keeping layerwise errors as they are. */
export function asLayerwiseError(err: unknown, subject?: string): LayerwiseError {
  if (err instanceof LayerwiseError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string') {
    if (e.code === 'ENOENT') {
      return new LayerwiseError('IO', `${subject ?? e.path ?? 'file'}: no such file or directory`, { subject, cause: err });
    }
    return new LayerwiseError('IO', `${subject ? subject + ': ' : ''}${e.message}`, { subject, cause: err });
  }
  return new LayerwiseError('INTERNAL', err instanceof Error ? err.message : String(err), { subject, cause: err });
}
