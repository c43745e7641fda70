import type { ClaimResult, Lease, StepLedger } from '../../engine/ports';
import type { Retention } from '../../privacy/retention';
import { type Item, StateStoreError, type StateTable } from './state-table';
import { expiresAtFor, stepItemKey, TTL_ATTRIBUTE } from './table-schema';

/** Claims that may lose to a claim released or expired in the meantime before claim gives up. */
const MAX_CLAIM_TRIES = 3;

/**
 * StepLedger on the state table: one item per step, next to its event. The claim is a single conditional
 * write, so of workers racing for a step exactly one gets it. Ledger items expire after the retention
 * period, by which time no delivery of the event can arrive any more.
 */
export class DynamoDbStepLedger implements StepLedger {
  constructor(
    private readonly table: StateTable,
    private readonly retention: Retention,
  ) {}

  async claim(eventId: string, stepKey: string, lease: Lease): Promise<ClaimResult> {
    const unknownBoundMs = lease.unknownBoundMs ?? 0;
    for (let tries = 1; tries <= MAX_CLAIM_TRIES; tries++) {
      const result = await this.table.update({
        Key: stepItemKey(eventId, stepKey),
        // Our own claim keeps when it was first claimed; a fresh one, or one taken over, starts now.
        UpdateExpression:
          'SET #state = :claimed, #owner = :owner, #leaseUntilMs = :until, #expiresAt = :expiresAt, #claimedAtMs = :claimedAt',
        // Free, ours already, or another owner's whose lease ran out and whose unknown-outcome bound passed.
        // A claim from before claimedAtMs existed has none: its bound has passed.
        ConditionExpression: `attribute_not_exists(pk) OR (#state = :claimed AND (#owner = :owner OR (#leaseUntilMs <= :now AND (attribute_not_exists(#claimedAtMs) OR #claimedAtMs <= :boundStart))))`,
        ExpressionAttributeNames: {
          '#state': 'state',
          '#owner': 'owner',
          '#leaseUntilMs': 'leaseUntilMs',
          '#expiresAt': TTL_ATTRIBUTE,
          '#claimedAtMs': 'claimedAtMs',
        },
        ExpressionAttributeValues: {
          ':claimed': 'claimed',
          ':owner': lease.owner,
          ':until': lease.nowMs + lease.leaseMs,
          ':now': lease.nowMs,
          ':boundStart': lease.nowMs - unknownBoundMs,
          ':claimedAt': lease.nowMs,
          ':expiresAt': expiresAtFor(this.retention),
        },
        ReturnValues: 'ALL_OLD',
      });
      if (result.written) {
        const previous = result.attributes;
        if (
          previous?.state === 'claimed' &&
          previous.owner === lease.owner &&
          previous.claimedAtMs !== undefined
        ) {
          // Renewing our own claim: keep its start (a second write, only on this rare path).
          await this.table.update(
            {
              Key: stepItemKey(eventId, stepKey),
              UpdateExpression: 'SET #claimedAtMs = :claimedAt',
              ConditionExpression: '#owner = :owner',
              ExpressionAttributeNames: { '#claimedAtMs': 'claimedAtMs', '#owner': 'owner' },
              ExpressionAttributeValues: { ':claimedAt': previous.claimedAtMs, ':owner': lease.owner },
            },
            'ignore',
          );
        }
        return { state: 'claimed' };
      }
      const verdict = verdictOn(result.current, lease, unknownBoundMs);
      if (verdict) return verdict;
      // The claim that beat this one is gone again (released, or read after it expired): try once more.
    }
    throw new StateStoreError(`step ${stepKey} of event ${eventId} kept changing while being claimed`);
  }

  async complete(eventId: string, stepKey: string, owner: string, at: string) {
    const result = await this.table.update(
      {
        Key: stepItemKey(eventId, stepKey),
        UpdateExpression: 'SET #state = :done, #doneAt = :at, #owner = :owner, #expiresAt = :expiresAt',
        ConditionExpression: 'attribute_not_exists(pk) OR #state <> :claimed OR #owner = :owner',
        ExpressionAttributeNames: {
          '#state': 'state',
          '#owner': 'owner',
          '#doneAt': 'doneAt',
          '#expiresAt': TTL_ATTRIBUTE,
        },
        ExpressionAttributeValues: {
          ':done': 'done',
          ':claimed': 'claimed',
          ':owner': owner,
          ':at': at,
          ':expiresAt': expiresAtFor(this.retention),
        },
      },
      'ignore',
    );
    if (!result.written) throw new Error(`step ${stepKey} is claimed by another owner`);
  }

  async markUnknown(eventId: string, stepKey: string, owner: string, nowMs: number) {
    // Losing the condition means the claim is not ours (or is done): then there is nothing to mark.
    await this.table.update(
      {
        Key: stepItemKey(eventId, stepKey),
        UpdateExpression: 'SET #owner = :nobody, #leaseUntilMs = :now',
        ConditionExpression: '#state = :claimed AND #owner = :owner',
        ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner', '#leaseUntilMs': 'leaseUntilMs' },
        ExpressionAttributeValues: { ':claimed': 'claimed', ':owner': owner, ':nobody': '', ':now': nowMs },
      },
      'ignore',
    );
  }

  async release(eventId: string, stepKey: string, owner: string) {
    // Losing the condition means the claim is not ours (or is done): then there is nothing to give back.
    await this.table.delete(
      {
        Key: stepItemKey(eventId, stepKey),
        ConditionExpression: '#state = :claimed AND #owner = :owner',
        ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' },
        ExpressionAttributeValues: { ':claimed': 'claimed', ':owner': owner },
      },
      'ignore',
    );
  }
}

/** What a lost claim means, judged on the item that won; undefined when that item would not stop it now. */
function verdictOn(item: Item | undefined, lease: Lease, unknownBoundMs: number): ClaimResult | undefined {
  if (!item) return undefined;
  if (item.state === 'done') return { state: 'done' };
  if (item.owner === lease.owner) return undefined;
  const leaseUntilMs = Number(item.leaseUntilMs);
  if (leaseUntilMs > lease.nowMs) return { state: 'held', untilMs: leaseUntilMs };
  const sinceMs = Number(item.claimedAtMs ?? 0);
  if (sinceMs + unknownBoundMs > lease.nowMs) {
    return { state: 'unknown', sinceMs, untilMs: sinceMs + unknownBoundMs };
  }
  return undefined;
}
