import { backoffMs } from '../engine/retry-delay';

export type RetryOptions = {
  /** Attempts in all, the first included. Default 4. */
  maxAttempts?: number;
  /** Base of the exponential backoff. Default 200 ms. */
  baseDelayMs?: number;
  /** Cap of one backoff delay (and of an honoured Retry-After). Default 20 s. */
  maxDelayMs?: number;
  random?: () => number;
};

export type RetryPolicy = Required<RetryOptions>;

export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const policy = {
    maxAttempts: options.maxAttempts ?? 4,
    baseDelayMs: options.baseDelayMs ?? 200,
    maxDelayMs: options.maxDelayMs ?? 20_000,
    random: options.random ?? Math.random,
  };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be a whole number of at least 1, got ${policy.maxAttempts}`);
  }
  return policy;
}

/**
 * Delay before attempt `failedAttempts + 1`: the server's Retry-After when it sent one (plus a little
 * jitter so waiting callers do not return in lockstep), else "full jitter" exponential backoff.
 */
export function retryDelayMs(policy: RetryPolicy, failedAttempts: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) {
    return Math.min(policy.maxDelayMs, retryAfterMs + policy.random() * policy.baseDelayMs);
  }
  return backoffMs(failedAttempts, {
    baseMs: policy.baseDelayMs,
    capMs: policy.maxDelayMs,
    jitter: 'full',
    random: policy.random,
  });
}

/** Parses a Retry-After header: delta seconds or an HTTP date. */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
