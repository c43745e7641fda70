import { randomUUID } from 'node:crypto';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { ForgetAudit, ForgetOptions, ForgetOutcome, ForgetSubject } from '../../engine/ports';
import type { DynamoDbPersonDirectory } from './dynamodb-person-directory';
import type { Item, StateTable } from './state-table';
import { eventItemKey, FORGET_AUDIT_PARTITION, forgetAuditItemKey } from './table-schema';

/** DynamoDB allows at most 100 operands in one IN. */
const IN_MAX = 100;

type FoundEvent = { eventId: string; status: string };

/**
 * StateStore.forget on DynamoDB. The person's events are found by a Scan filtered on the event items'
 * `employeeKey` and email rather than by an index: forget is a rare operator action, and an index on
 * either attribute would cost a write on every event transition, the hot path, to save reading the table
 * once in a while (and an email index would be one more copy of every address). Each event partition
 * (the event and its ledger steps) is then read and deleted item by item; then the person items and links,
 * and last the audit item, so an interrupted forget leaves no audit and a repeat completes it.
 */
export class DynamoDbForget {
  constructor(
    private readonly table: StateTable,
    private readonly people: DynamoDbPersonDirectory,
  ) {}

  async forget(subject: ForgetSubject, options: ForgetOptions): Promise<ForgetOutcome> {
    const found = await this.findEvents(subject);
    const busy = found.filter((e) => e.status === 'queued' || e.status === 'running');
    if (options.refuseWhileBusy && busy.length > 0) return { busy: busy.map((e) => e.eventId) };
    let events = 0;
    let steps = 0;
    for (const { eventId } of found) {
      for (const item of await this.partitionOf(eventId)) {
        const deleted = await this.table.delete({ Key: { pk: String(item.pk), sk: String(item.sk) } });
        if (!deleted.written) continue;
        if (item.sk === 'EVENT') events++;
        else steps++;
      }
    }
    const forgotten: ForgetAudit = {
      ...options.audit,
      events,
      steps,
      ...(await this.people.forget(subject)),
    };
    await this.table.put({ Item: { ...forgetAuditItemKey(forgotten.at, randomUUID()), ...forgotten } });
    return { forgotten };
  }

  async audits(): Promise<ForgetAudit[]> {
    const audits: ForgetAudit[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.table.call('Query forget audit', () =>
        this.table.client.send(
          new QueryCommand({
            TableName: this.table.name,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': FORGET_AUDIT_PARTITION },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      for (const { pk: _pk, sk: _sk, ...audit } of page.Items ?? []) audits.push(audit as ForgetAudit);
      start = page.LastEvaluatedKey;
    } while (start);
    return audits;
  }

  /** The event items of the person: one Scan of the table, page by page, filtered on the server. */
  private async findEvents(subject: ForgetSubject): Promise<FoundEvent[]> {
    const names: Record<string, string> = { '#sk': 'sk', '#status': 'status' };
    const values: Record<string, unknown> = { ':event': 'EVENT' };
    const matches: string[] = [];
    for (let start = 0; start < subject.personKeys.length; start += IN_MAX) {
      const operands = subject.personKeys.slice(start, start + IN_MAX).map((key, i) => {
        values[`:key${start + i}`] = key;
        return `:key${start + i}`;
      });
      names['#employeeKey'] = 'employeeKey';
      matches.push(`#employeeKey IN (${operands.join(', ')})`);
    }
    if (subject.email !== undefined) {
      Object.assign(names, { '#event': 'event', '#employee': 'employee', '#email': 'email' });
      values[':email'] = subject.email;
      matches.push('#event.#employee.#email = :email');
    }
    if (matches.length === 0) return [];
    const found: FoundEvent[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.table.call('Scan for a person’s events', () =>
        this.table.client.send(
          new ScanCommand({
            TableName: this.table.name,
            FilterExpression: `#sk = :event AND (${matches.join(' OR ')})`,
            ProjectionExpression: 'pk, #status',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        found.push({ eventId: String(item.pk).slice('EVENT#'.length), status: String(item.status) });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return found;
  }

  /** The event item and its ledger steps: they share the partition. */
  private async partitionOf(eventId: string): Promise<Item[]> {
    const items: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.table.call(`Query ${eventItemKey(eventId).pk}`, () =>
        this.table.client.send(
          new QueryCommand({
            TableName: this.table.name,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': eventItemKey(eventId).pk },
            ProjectionExpression: 'pk, sk',
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
