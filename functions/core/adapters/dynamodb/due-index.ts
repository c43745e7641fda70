import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { EventRecord } from '../../engine/ports';
import { getEvents } from './list-events';
import type { StateTable } from './state-table';
import {
  DUE_INDEX,
  DUE_INDEX_PARTITION_KEY,
  DUE_INDEX_SORT_KEY,
  DUE_QUEUE,
  type TableKey,
} from './table-schema';

/*
 * Reads of the sparse `byDueTime` index (table-schema.ts): the scheduled events due now, and a person's
 * scheduled events. The index lags the table a little, so the records are read by key and only those still
 * `scheduled` are answered.
 */

/** The item attributes that put an event in the index while it is scheduled. */
export const dueIndexAttributes = (dueAt: string, sequence: number) => ({
  [DUE_INDEX_PARTITION_KEY]: DUE_QUEUE,
  [DUE_INDEX_SORT_KEY]: `${dueAt}#${String(sequence).padStart(16, '0')}`,
});

/** Scheduled events with dueAt ≤ now, earliest first, at most `limit`. */
export async function dueEvents(table: StateTable, now: string, limit: number): Promise<EventRecord[]> {
  const keys = await queryKeys(table, {
    // `$` sorts right after `#`: every key of an instant up to `now` is below the bound, none after it.
    KeyConditionExpression: '#queue = :queue AND #due < :bound',
    ExpressionAttributeNames: { '#queue': DUE_INDEX_PARTITION_KEY, '#due': DUE_INDEX_SORT_KEY },
    ExpressionAttributeValues: { ':queue': DUE_QUEUE, ':bound': `${now}$` },
    Limit: limit,
  });
  return stillScheduled(await getEvents(table, keys));
}

/** A person's scheduled events, earliest due first. */
export async function scheduledEventsOf(table: StateTable, personKey: string): Promise<EventRecord[]> {
  const keys: TableKey[] = [];
  let startKey: Record<string, unknown> | undefined;
  // Every page: a filter is applied after the page's limit, so one page may hold none of the person's.
  do {
    const page = await queryPage(table, {
      KeyConditionExpression: '#queue = :queue',
      FilterExpression: '#person = :person',
      ExpressionAttributeNames: { '#queue': DUE_INDEX_PARTITION_KEY, '#person': 'employeeKey' },
      ExpressionAttributeValues: { ':queue': DUE_QUEUE, ':person': personKey },
      ...(startKey ? { ExclusiveStartKey: startKey } : {}),
    });
    keys.push(...page.keys);
    startKey = page.next;
  } while (startKey !== undefined);
  return stillScheduled(await getEvents(table, keys));
}

type QueryInput = Omit<ConstructorParameters<typeof QueryCommand>[0], 'TableName' | 'IndexName'>;

async function queryKeys(table: StateTable, input: QueryInput): Promise<TableKey[]> {
  return (await queryPage(table, input)).keys;
}

async function queryPage(
  table: StateTable,
  input: QueryInput,
): Promise<{ keys: TableKey[]; next?: Record<string, unknown> }> {
  const output = await table.call(`Query ${DUE_INDEX}`, () =>
    table.client.send(new QueryCommand({ TableName: table.name, IndexName: DUE_INDEX, ...input })),
  );
  return {
    keys: (output.Items ?? []).map((item) => ({ pk: String(item.pk), sk: String(item.sk) })),
    ...(output.LastEvaluatedKey ? { next: output.LastEvaluatedKey } : {}),
  };
}

const stillScheduled = (records: EventRecord[]) =>
  records
    .filter((r) => r.status === 'scheduled')
    .sort((a, b) => (a.dueAt ?? '').localeCompare(b.dueAt ?? '') || (a.sequence ?? 0) - (b.sequence ?? 0));
