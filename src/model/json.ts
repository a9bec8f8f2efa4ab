import { LayerwiseError, type ErrorCode } from '../errors.js';

/** Manifests, indexes and configs above this size are refused: real ones are kilobytes, a hostile one could be gigabytes. */
export const MAX_JSON_BYTES = 8 * 1024 * 1024;

/** Parses untrusted JSON with a size cap and a clear error naming where it came from. */
export function parseJsonBytes(bytes: Uint8Array, where: string, code: ErrorCode, maxBytes = MAX_JSON_BYTES): unknown {
  if (bytes.byteLength > maxBytes) {
    throw new LayerwiseError('JSON_TOO_LARGE', `${where}: ${bytes.byteLength} bytes of JSON is over the ${maxBytes}-byte limit`, { subject: where });
  }
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new LayerwiseError(code, `${where}: malformed JSON (${(err as Error).message})`, { subject: where });
  }
}
