/**
 * Days a dead letter is kept: SQS's longest retention, which the stack gives its dead-letter queue; the
 * local runtime's dead letters expire after as long.
 */
export const DEAD_LETTER_RETENTION_DAYS = 14;

const DAY_MS = 86_400_000;

/**
 * Days a person (mark, status, accounts) and their email links are kept after their last event. The
 * retention period, but never shorter than a dead letter lives: a redriven hire must still find the
 * offboard that came after it, or it would bring a leaver back.
 */
export function personRetentionDays(retentionDays: number): number {
  return Math.max(retentionDays, DEAD_LETTER_RETENTION_DAYS);
}

/** Epoch milliseconds after which a person written at `nowMs` may be deleted. */
export function personExpiresAtMs(nowMs: number, retentionDays: number): number {
  return nowMs + personRetentionDays(retentionDays) * DAY_MS;
}

/** Epoch milliseconds after which a dead letter buried at `deadAtMs` may be deleted. */
export function deadLetterExpiresAtMs(deadAtMs: number): number {
  return deadAtMs + DEAD_LETTER_RETENTION_DAYS * DAY_MS;
}
