import type { WebhookIdStore, WebhookIdVerdict } from '../../ingest/webhook-ids';
import type { StateTable } from './state-table';
import { TTL_ATTRIBUTE, webhookIdItemKey } from './table-schema';

/**
 * WebhookIdStore on the state table: one `WEBHOOK#<id>` item per webhook-id, written by a conditional put
 * that wins when the id is new, expired, or recorded with the same fingerprint (a retry), and loses to a
 * live record of another request. `expiresAtMs` decides expiry, not the TTL attribute: DynamoDB deletes
 * expired items only eventually (within days), so an expired item may still be there and must not count.
 */
export class DynamoDbWebhookIds implements WebhookIdStore {
  constructor(private readonly table: StateTable) {}

  async remember(
    id: string,
    fingerprint: string,
    expiresAtMs: number,
    nowMs: number,
  ): Promise<WebhookIdVerdict> {
    const written = await this.table.put(
      {
        Item: {
          ...webhookIdItemKey(id),
          fingerprint,
          expiresAtMs,
          [TTL_ATTRIBUTE]: Math.ceil(expiresAtMs / 1000),
        },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAtMs <= :now OR fingerprint = :fingerprint',
        ExpressionAttributeValues: { ':now': nowMs, ':fingerprint': fingerprint },
        ReturnValues: 'ALL_OLD',
      },
      'ignore',
    );
    if (!written.written) return 'different';
    const before = written.attributes;
    return before !== undefined && Number(before.expiresAtMs) > nowMs ? 'same' : 'first';
  }
}
