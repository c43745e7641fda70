/*
 * How long personal data is kept, in one place for every store: finished events and ledger steps for the
 * retention period (DynamoDB TTL on AWS, purgeExpired locally), people and their email links as long after
 * their last event, and dead letters as long as SQS keeps them.
 */

/** How long finished events and ledger rows are kept, and the clock their expiry counts from. */
export type Retention = { now: () => number; days: number };

export const DEFAULT_RETENTION_DAYS = 30;

/**
 * Days a dead letter is kept: SQS's longest retention, which the stack gives its dead-letter queue; the
 * local runtime's dead letters expire after as long.
 */
export const DEAD_LETTER_RETENTION_DAYS = 14;

const DAY_MS = 86_400_000;

/** Epoch milliseconds after which a finished event or ledger row written now may be deleted. */
export function expiresAtMsFor(retention: Retention): number {
  return retention.now() + retention.days * DAY_MS;
}

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
