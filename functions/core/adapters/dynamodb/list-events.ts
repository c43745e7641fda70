import { setTimeout as sleep } from 'node:timers/promises';
import { BatchGetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { EventPage, EventRecord, EventStatus } from '../../engine/ports';
import { backoffMs } from '../../engine/retry-delay';
import { eventRecordOf } from './event-item';
import { StateStoreError, type StateTable } from './state-table';
import { STATUS_INDEX, STATUS_INDEX_PARTITION_KEY, type TableKey } from './table-schema';

const BATCH_GET_MAX_KEYS = 100;
const BATCH_GET_MAX_ROUNDS = 5;

/**
 * One page of events, oldest update first: keys from the sparse `byStatus` index (a Query for one status, a
 * Scan of the index for all; either way only events, and only as many as asked), then the records by key.
 */
export async function listEvents(
  table: StateTable,
  query: { status?: EventStatus; limit: number; cursor?: string },
): Promise<EventPage> {
  const request = {
    TableName: table.name,
    IndexName: STATUS_INDEX,
    // One more than asked tells whether another page follows, so the last page carries no cursor.
    Limit: query.limit + 1,
    ...(query.cursor === undefined ? {} : { ExclusiveStartKey: decodeCursor(query.cursor) }),
  };
  const status = query.status;
  const { Items: found = [], LastEvaluatedKey } = await table.call(`list ${status ?? 'all'}`, () =>
    status === undefined
      ? table.client.send(new ScanCommand(request))
      : table.client.send(
          new QueryCommand({
            ...request,
            KeyConditionExpression: '#status = :status',
            ExpressionAttributeNames: { '#status': STATUS_INDEX_PARTITION_KEY },
            ExpressionAttributeValues: { ':status': status },
          }),
        ),
  );
  const indexKeys = found.slice(0, query.limit);
  // An index entry holds exactly the keys DynamoDB wants to continue after it.
  const continueAfter = found.length > query.limit ? indexKeys.at(-1) : LastEvaluatedKey;
  const records = await getEvents(
    table,
    indexKeys.map((k) => ({ pk: String(k.pk), sk: String(k.sk) })),
  );
  return {
    // The index lags the table a little: drop a record that has moved on to another status since.
    records: records.filter((r) => status === undefined || r.status === status),
    ...(continueAfter ? { cursor: encodeCursor(continueAfter) } : {}),
  };
}

/** The records under these keys, in the same order; one gone meanwhile (TTL) is left out. */
export async function getEvents(table: StateTable, keys: TableKey[]): Promise<EventRecord[]> {
  const byPk = new Map<string, EventRecord>();
  for (let start = 0; start < keys.length; start += BATCH_GET_MAX_KEYS) {
    let pending: Record<string, unknown>[] = keys.slice(start, start + BATCH_GET_MAX_KEYS);
    for (let round = 1; pending.length > 0; round++) {
      if (round > BATCH_GET_MAX_ROUNDS) {
        throw new StateStoreError(`DynamoDB BatchGetItem left ${pending.length} keys unprocessed`);
      }
      // Unprocessed keys mean throttling: back off before asking again, as the DynamoDB guide says.
      if (round > 1) await sleep(backoffMs(round - 1, { baseMs: 100, jitter: 'none' }));
      const keysNow = pending;
      const output = await table.call('BatchGetItem', () =>
        table.client.send(
          new BatchGetCommand({ RequestItems: { [table.name]: { Keys: keysNow, ConsistentRead: true } } }),
        ),
      );
      for (const item of output.Responses?.[table.name] ?? []) byPk.set(String(item.pk), eventRecordOf(item));
      pending = output.UnprocessedKeys?.[table.name]?.Keys ?? [];
    }
  }
  return keys.flatMap((k) => byPk.get(k.pk) ?? []);
}

/** An opaque page cursor: the DynamoDB key to continue from, as base64url JSON. */
export function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The key a cursor stands for; throws on anything this adapter did not hand out. */
export function decodeCursor(cursor: string): Record<string, string> {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new Error('invalid cursor');
  }
  if (!isStringRecord(key)) throw new Error('invalid cursor');
  return key;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length > 0 &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}
