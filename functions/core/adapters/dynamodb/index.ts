import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StateStore } from '../../engine/ports';
import { DEFAULT_RETENTION_DAYS, type Retention } from '../../privacy/retention';
import { DynamoDbEventStore } from './dynamodb-event-store';
import { DynamoDbForget } from './dynamodb-forget';
import { DynamoDbOffboardGuard } from './dynamodb-offboard-guard';
import { DynamoDbPersonDirectory } from './dynamodb-person-directory';
import { DynamoDbStepLedger } from './dynamodb-step-ledger';
import { StateStoreError, StateTable } from './state-table';

export { SharedRateLimiter } from './shared-rate-limiter';
export * from './table-schema';
export { DynamoDbEventStore, DynamoDbPersonDirectory, DynamoDbStepLedger, StateStoreError, StateTable };

export type DynamoDbStateStoreOptions = {
  client: DynamoDBDocumentClient;
  tableName: string;
  /**
   * Days finished events and ledger entries are kept before DynamoDB TTL deletes them; people and their
   * email links, as long after their last event (at least as long as a dead letter lives).
   */
  retentionDays?: number;
  /** Clock for TTL stamps, in epoch milliseconds. */
  now?: () => number;
};

/** The state store on one DynamoDB table laid out as table-schema.ts describes. */
export function createDynamoDbStateStore(options: DynamoDbStateStoreOptions): StateStore {
  const table = new StateTable(options.client, options.tableName);
  const retention: Retention = {
    now: options.now ?? Date.now,
    days: options.retentionDays ?? DEFAULT_RETENTION_DAYS,
  };
  const events = new DynamoDbEventStore(table, retention);
  const people = new DynamoDbPersonDirectory(table, retention);
  const forget = new DynamoDbForget(table, people);
  return {
    events,
    ledger: new DynamoDbStepLedger(table, retention),
    people,
    /*
     * The mark first, then the status, rather than one TransactWriteItems: dynalite, on which the tests run
     * this adapter, has no transactions. The order keeps it safe: a crash between the two leaves the mark
     * naming this event and the event open, and its redelivery passes the order check as a replay, finds
     * TrueFoundry converged (no call) and records the status. A failed event never reaches the mark.
     */
    async recordSuccess(eventId, result, { personKey, ...update }) {
      const applied = await people.apply(personKey, update);
      if (applied.applied) await events.finish(eventId, { status: 'succeeded', ...result });
      return applied;
    },
    forget: (subject, options) => forget.forget(subject, options),
    forgetAudits: () => forget.audits(),
    guard: new DynamoDbOffboardGuard(table, retention),
  };
}
