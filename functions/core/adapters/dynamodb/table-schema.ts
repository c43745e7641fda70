import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { Retention } from '../../privacy/retention';

/*
 * One table holds all state, keyed by generic string `pk`/`sk` so each kind of item picks its own layout:
 *
 *   event            pk EVENT#<eventId>       sk EVENT            status, updatedAt, steps (list), expiresAt once terminal,
 *                                                                 dueQueue + dueKey while scheduled
 *   step ledger      pk EVENT#<eventId>       sk STEP#<stepKey>   state, owner, leaseUntilMs, expiresAt
 *   person           pk PERSON#<personKey>    sk PERSON           markAt, markSequence, markEventId, status, accounts,
 *                                                                 expiresAt
 *   email owner      pk EMAIL#<email>         sk OWNER            personKey: the person the account is linked to;
 *                                                                 expiresAt
 *   sequence         pk SEQUENCE              sk ACCEPTANCE       last: the last acceptance number handed out
 *   legacy mark      pk EMPLOYEE#<email key>  sk HWM              occurredAt, eventId: written by versions before
 *                                                                 people existed; read, never written
 *   webhook-id       pk WEBHOOK#<webhook-id>  sk WEBHOOK          fingerprint (route and body hash), expiresAtMs;
 *                                                                 expiresAt (TTL) once no signature with the id
 *                                                                 can be accepted any more (minutes)
 *   forget audit     pk AUDIT#FORGET          sk <at>#<uuid>      person (a digest), counts, by: one per forget
 * People and owners expire the retention period after the person's last event, never sooner than a dead
 * letter could be redriven (privacy/retention.ts): every write of them sets expiresAt anew. The sequence and
 * the forget audit (no personal data) never expire; legacy marks have no time of writing to count from.
 *
 * An event and its ledger entries share a partition, so one Query could read an event's whole history.
 */
export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';

/*
 * The `byStatus` index is keyed on the event item's own `status` and `updatedAt` attributes rather than a
 * dedicated gsi1pk/gsi1sk pair: every transition writes those two already, so the index can never disagree
 * with the record, and no other item kind carries `status` (the ledger says `state`), which keeps the index
 * sparse: events only. It projects keys only: status changes are the hot write path and each one rewrites the
 * index entry, so a ~100-byte entry costs one write unit where a full copy of an event with its steps costs
 * many; listing, a cold path, fetches the records by key instead. All events of one status share an index
 * partition; at one write unit per entry that takes ~1,000 transitions a second, beyond what the FIFO workers
 * drive. Should it ever not be, suffix the status with a shard number and merge the shards when listing.
 */
export const STATUS_INDEX = 'byStatus';
export const STATUS_INDEX_PARTITION_KEY = 'status';
export const STATUS_INDEX_SORT_KEY = 'updatedAt';

/*
 * Effective dates: the `byDueTime` index holds the `scheduled` events by due time. Sparse like byStatus: an
 * event item carries `dueQueue` only while it is scheduled (accept sets it; release, cancel and a delivery's
 * start remove it), so the index holds only what waits, and the minute sweep's Query reads only what is due.
 * It projects the keys and employeeKey: a person's pending events (a BambooHR date that moved cancels them)
 * are found with a filter, no read of the others. One partition: scheduled events are HR's future-dated
 * starts and leavers, tens a day, far from a partition's 1,000 writes a second.
 */
export const DUE_INDEX = 'byDueTime';
export const DUE_INDEX_PARTITION_KEY = 'dueQueue';
/** `<dueAt>#<acceptance sequence, 16 digits>`: one person's events due at one instant stay in acceptance order. */
export const DUE_INDEX_SORT_KEY = 'dueKey';
/** The one value of `dueQueue`. */
export const DUE_QUEUE = 'SCHEDULED';
export const DUE_INDEX_PROJECTED = ['employeeKey'];

/** Epoch seconds after which DynamoDB may delete the item; enable TTL on this attribute. */
export const TTL_ATTRIBUTE = 'expiresAt';

/** The TTL of finished state (an event, a ledger item) written now, in epoch seconds. */
export function expiresAtFor(retention: Retention): number {
  return Math.floor(retention.now() / 1000) + retention.days * 86_400;
}

export type TableKey = { pk: string; sk: string };

export const eventItemKey = (eventId: string): TableKey => ({ pk: `EVENT#${eventId}`, sk: 'EVENT' });

export const stepItemKey = (eventId: string, stepKey: string): TableKey => ({
  pk: `EVENT#${eventId}`,
  sk: `STEP#${stepKey}`,
});

export const personItemKey = (personKey: string): TableKey => ({ pk: `PERSON#${personKey}`, sk: 'PERSON' });

export const emailOwnerItemKey = (email: string): TableKey => ({ pk: `EMAIL#${email}`, sk: 'OWNER' });

export const sequenceItemKey: TableKey = { pk: 'SEQUENCE', sk: 'ACCEPTANCE' };

/** The partition of the forget audit: a forget is a rare operator action, one partition holds them all. */
export const FORGET_AUDIT_PARTITION = 'AUDIT#FORGET';

export const forgetAuditItemKey = (at: string, id: string): TableKey => ({
  pk: FORGET_AUDIT_PARTITION,
  sk: `${at}#${id}`,
});

export const legacyMarkItemKey = (employeeKey: string): TableKey => ({
  pk: `EMPLOYEE#${employeeKey}`,
  sk: 'HWM',
});

export const webhookIdItemKey = (webhookId: string): TableKey => ({
  pk: `WEBHOOK#${webhookId}`,
  sk: 'WEBHOOK',
});

/** The table as CreateTableCommand wants it: for tests and local development; the CDK stack mirrors it. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: PARTITION_KEY, AttributeType: 'S' },
      { AttributeName: SORT_KEY, AttributeType: 'S' },
      { AttributeName: STATUS_INDEX_PARTITION_KEY, AttributeType: 'S' },
      { AttributeName: STATUS_INDEX_SORT_KEY, AttributeType: 'S' },
      { AttributeName: DUE_INDEX_PARTITION_KEY, AttributeType: 'S' },
      { AttributeName: DUE_INDEX_SORT_KEY, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
      { AttributeName: SORT_KEY, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: STATUS_INDEX,
        KeySchema: [
          { AttributeName: STATUS_INDEX_PARTITION_KEY, KeyType: 'HASH' },
          { AttributeName: STATUS_INDEX_SORT_KEY, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
      {
        IndexName: DUE_INDEX,
        KeySchema: [
          { AttributeName: DUE_INDEX_PARTITION_KEY, KeyType: 'HASH' },
          { AttributeName: DUE_INDEX_SORT_KEY, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: DUE_INDEX_PROJECTED },
      },
    ],
  };
}
