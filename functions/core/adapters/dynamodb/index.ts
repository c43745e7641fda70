import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StateStore } from '../../engine/ports';
import { DynamoDbEmployeeState } from './dynamodb-employee-state';
import { DynamoDbEventStore } from './dynamodb-event-store';
import { DynamoDbStepLedger } from './dynamodb-step-ledger';
import { DEFAULT_RETENTION_DAYS, type Retention } from './retention';
import { StateStoreError, StateTable } from './state-table';

export * from './table-schema';
export { DynamoDbEmployeeState, DynamoDbEventStore, DynamoDbStepLedger, StateStoreError, StateTable };

export type DynamoDbStateStoreOptions = {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Days finished events and ledger entries are kept before DynamoDB TTL deletes them. */
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
  return {
    events: new DynamoDbEventStore(table, retention),
    ledger: new DynamoDbStepLedger(table, retention),
    employees: new DynamoDbEmployeeState(table),
  };
}
