/**
 * How random a backoff delay is, after the names of the AWS Architecture Blog's "Exponential Backoff And
 * Jitter": `none` waits the whole ceiling; `full` anywhere from 0 to the ceiling (callers spread out the
 * most); `equal` half the ceiling fixed and half random (spread out, but none comes back almost at once).
 */
export type Jitter = 'none' | 'full' | 'equal';

export type Backoff = {
  /** The ceiling of the first retry; each further retry doubles it. */
  baseMs: number;
  /** The most any ceiling grows to. Default: no cap. */
  capMs?: number;
  jitter: Jitter;
  /** Uniform on [0, 1); tests pass a fixed one. Default Math.random. */
  random?: () => number;
};

/**
 * The project's one exponential backoff: the delay before retry number `retry`, where retry 1 is the
 * first retry (the wait after the first failed attempt), so its ceiling is `min(capMs, baseMs * 2 **
 * (retry - 1))`; a `retry` below 1 counts as 1. Not rounded: a caller that needs whole milliseconds
 * rounds.
 */
export function backoffMs(retry: number, backoff: Backoff): number {
  const ceiling = Math.min(
    backoff.capMs ?? Number.POSITIVE_INFINITY,
    backoff.baseMs * 2 ** Math.max(0, retry - 1),
  );
  const random = backoff.random ?? Math.random;
  switch (backoff.jitter) {
    case 'none':
      return ceiling;
    case 'full':
      return random() * ceiling;
    case 'equal':
      return ceiling / 2 + (random() * ceiling) / 2;
  }
}

const BASE_MS = 2_000;
const CAP_MS = 300_000;

/**
 * How long an event waits in the queue after a transient failure on delivery `attempt`: the server's
 * Retry-After when it gave one, else exponential backoff with jitter (half fixed, half random, so a
 * burst of failures spreads out without any event coming back almost at once).
 */
export function retryDelayForAttempt(
  attempt: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(CAP_MS, retryAfterMs);
  // Delivery 1 failing is the first retry: the delay before delivery 2.
  return Math.round(backoffMs(attempt, { baseMs: BASE_MS, capMs: CAP_MS, jitter: 'equal', random }));
}
