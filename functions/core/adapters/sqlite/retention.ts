import { DEFAULT_RETENTION_DAYS } from '../dynamodb/retention';

/** How long finished events and ledger rows are kept before purgeExpired deletes them. */
export type Retention = { now: () => number; days: number };

export { DEFAULT_RETENTION_DAYS };

const DAY_MS = 86_400_000;

/** Epoch milliseconds after which purgeExpired may delete a row written now. */
export function expiresAtMsFor(retention: Retention): number {
  return retention.now() + retention.days * DAY_MS;
}
