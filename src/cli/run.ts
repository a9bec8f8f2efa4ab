import { CommanderError } from 'commander';
import { isLayerwiseError, type ErrorCode } from '../errors.js';

/** Exit codes: 0 success, 1 failure (an error, or a check that did not pass), 2 usage error. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

function exitCodeFor(code: ErrorCode): number {
  return code === 'USAGE' || code === 'REFERENCE_INVALID' || code === 'TRANSPORT_UNKNOWN' ? EXIT.usage : EXIT.failure;
}

/** The one place where errors become a single line on stderr and an exit code. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT.usage;
  if (isLayerwiseError(err)) {
    process.stderr.write(`layerwise: ${err.message} [${err.code}]\n`);
    if (process.env.LAYERWISE_DEBUG && err.stack) process.stderr.write(err.stack + '\n');
    return exitCodeFor(err.code);
  }
  const e = err as Error;
  process.stderr.write(`layerwise: internal error: ${e?.message ?? String(err)}\n`);
  if (process.env.LAYERWISE_DEBUG && e?.stack) process.stderr.write(e.stack + '\n');
  return EXIT.failure;
}
