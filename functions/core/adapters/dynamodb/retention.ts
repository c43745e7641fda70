/** How long finished state is kept: DynamoDB deletes an item after its TTL attribute, in epoch seconds. */
export type Retention = { now: () => number; days: number };

export const DEFAULT_RETENTION_DAYS = 30;

export function expiresAtFor(retention: Retention): number {
  return Math.floor(retention.now() / 1000) + retention.days * 86_400;
}
