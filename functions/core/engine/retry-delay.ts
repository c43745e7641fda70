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
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
