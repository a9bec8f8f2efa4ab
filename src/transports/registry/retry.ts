import { isTransient } from './errors.js';

export interface RetryPolicy {
  /** Further attempts after the first one. */
  retries: number;
  /** Delay before the first retry; doubles each time, capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseDelayMs: 250, maxDelayMs: 8000 };

/** Exponential backoff with up to 25% jitter, so parallel uploads do not retry in lockstep. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const d = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(d * (1 - Math.random() * 0.25));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `work` again after a transient failure (see RegistryError.transient), at most policy.retries
 * more times; any other error, or the last transient one, is thrown as it is.
 */
export async function withRetries<T>(policy: RetryPolicy, work: (attempt: number) => Promise<T>, onRetry?: (err: unknown, attempt: number) => void): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work(attempt);
    } catch (err) {
      if (!isTransient(err) || attempt >= policy.retries) throw err;
      onRetry?.(err, attempt);
      await sleep(backoffDelay(policy, attempt));
    }
  }
}
