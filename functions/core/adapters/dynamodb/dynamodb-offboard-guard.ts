import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  type Admissions,
  admitInWindow,
  type GuardLimit,
  type HeldEntry,
  type HoldDecision,
  holdKeyOf,
  inAcceptanceOrder,
  type OffboardGuard,
} from '../../engine/offboard-guard';
import type { Retention } from '../../privacy/retention';
import { StateStoreError, type StateTable } from './state-table';
import { expiresAtFor, PARTITION_KEY, type TableKey, TTL_ATTRIBUTE } from './table-schema';

/*
 * The offboarding guard on the state table (offboard-guard.ts says what each kind holds):
 *   window     pk GUARD#OFFBOARDS       sk WINDOW           admissions (map event id → epoch ms), version
 *   hold       pk HOLD#<person digest>  sk EVENT#<eventId>  sequence
 *   decision   pk DECISION#<eventId>    sk DECISION         decision, decidedAt, expiresAt
 * The window is one item written under its version: offboards are rare, so every worker contending for it
 * is cheap, and a conditional put on the version is what keeps two workers from both taking the last place.
 */
const WINDOW_KEY: TableKey = { pk: 'GUARD#OFFBOARDS', sk: 'WINDOW' };
const holdPartition = (personKey: string) => `HOLD#${holdKeyOf(personKey)}`;
const holdItemKey = (personKey: string, eventId: string): TableKey => ({
  pk: holdPartition(personKey),
  sk: `EVENT#${eventId}`,
});
const decisionItemKey = (eventId: string): TableKey => ({ pk: `DECISION#${eventId}`, sk: 'DECISION' });

/**
 * Writes of the window lost to another worker before admit gives up with a StateStoreError, which the
 * engine retries as transient. Each loss means another worker wrote in between; 50 in a row does not
 * happen at the rates offboards come in, and an unbounded loop could outlive the invocation.
 */
const MAX_WINDOW_WRITES = 50;

export class DynamoDbOffboardGuard implements OffboardGuard {
  constructor(
    private readonly table: StateTable,
    private readonly retention: Retention,
  ) {}

  async admit(eventId: string, nowMs: number, limit: GuardLimit) {
    let current = await this.table.get(WINDOW_KEY);
    for (let write = 1; write <= MAX_WINDOW_WRITES; write++) {
      const version = typeof current?.version === 'number' ? current.version : 0;
      const admissions = (current?.admissions ?? {}) as Admissions;
      const verdict = admitInWindow(admissions, eventId, nowMs, limit);
      if (!verdict.next) return verdict.admitted;
      const written = await this.table.put({
        Item: { ...WINDOW_KEY, admissions: verdict.next, version: version + 1 },
        ConditionExpression: current ? '#version = :seen' : 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: current ? { '#version': 'version' } : { '#pk': PARTITION_KEY },
        ...(current ? { ExpressionAttributeValues: { ':seen': version } } : {}),
      });
      if (written.written) return true;
      current = written.current;
    }
    throw new StateStoreError(
      `the offboarding guard's window kept changing over ${MAX_WINDOW_WRITES} writes`,
    );
  }

  async hold(personKey: string, entry: HeldEntry) {
    await this.table.put({ Item: { ...holdItemKey(personKey, entry.eventId), sequence: entry.sequence } });
  }

  async holdsOf(personKey: string) {
    const entries: HeldEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.table.call(`Query ${holdPartition(personKey)}`, () =>
        this.table.client.send(
          new QueryCommand({
            TableName: this.table.name,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': PARTITION_KEY },
            ExpressionAttributeValues: { ':pk': holdPartition(personKey) },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        entries.push({
          eventId: String(item.sk).slice('EVENT#'.length),
          sequence: Number(item.sequence ?? 0),
        });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return entries.sort(inAcceptanceOrder);
  }

  async unhold(personKey: string, eventId: string) {
    await this.table.delete({ Key: holdItemKey(personKey, eventId) }, 'ignore');
  }

  async decide(eventId: string, decision: HoldDecision, at: string) {
    await this.table.put({
      Item: {
        ...decisionItemKey(eventId),
        decision,
        decidedAt: at,
        // Kept as long as the event: a redelivery of it must still read the decision.
        [TTL_ATTRIBUTE]: expiresAtFor(this.retention),
      },
    });
  }

  async decisionOf(eventId: string) {
    const item = await this.table.get(decisionItemKey(eventId));
    const decision = item?.decision;
    return decision === 'released' || decision === 'rejected' ? decision : undefined;
  }
}
