import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { StateTable, TTL_ATTRIBUTE, webhookIdItemKey } from '../../functions/core/adapters/dynamodb';
import { DynamoDbWebhookIds } from '../../functions/core/adapters/dynamodb/dynamodb-webhook-ids';
import { MemoryWebhookIds } from '../../functions/core/adapters/memory';
import { SqliteWebhookIds } from '../../functions/core/adapters/sqlite/sqlite-webhook-ids';
import type { WebhookIdStore } from '../../functions/core/ingest/webhook-ids';
import { openLocalDatabase } from '../../local/database';
import { startDynalite } from '../support/dynalite';

const NOW = Date.UTC(2026, 10, 2, 9, 0, 0);
const WINDOW = 6 * 60_000;

const dynalite = startDynalite();
afterAll(async () => {
  await (await dynalite).close();
});

const stores: [string, () => Promise<WebhookIdStore>][] = [
  ['memory', async () => new MemoryWebhookIds()],
  ['SQLite', async () => new SqliteWebhookIds(openLocalDatabase(':memory:'))],
  [
    'DynamoDB (dynalite)',
    async () => {
      const local = await dynalite;
      return new DynamoDbWebhookIds(new StateTable(local.client, await local.createTable()));
    },
  ],
];

describe.each(stores)('WebhookIdStore: %s', (_name, create) => {
  it('first, then the same fingerprint is a retry and another one is refused', async () => {
    const ids = await create();
    expect(await ids.remember('msg_1', 'fp-a', NOW + WINDOW, NOW)).toBe('first');
    expect(await ids.remember('msg_1', 'fp-a', NOW + WINDOW, NOW + 1000)).toBe('same');
    expect(await ids.remember('msg_1', 'fp-b', NOW + WINDOW, NOW + 2000)).toBe('different');
    // The refused request did not overwrite the record: the first request's retry still passes.
    expect(await ids.remember('msg_1', 'fp-a', NOW + WINDOW, NOW + 3000)).toBe('same');
    expect(await ids.remember('msg_2', 'fp-b', NOW + WINDOW, NOW)).toBe('first');
  });

  it('an expired record counts for nothing, even while it is still stored', async () => {
    const ids = await create();
    expect(await ids.remember('msg_1', 'fp-a', NOW + WINDOW, NOW)).toBe('first');
    expect(await ids.remember('msg_1', 'fp-b', NOW + 2 * WINDOW, NOW + WINDOW)).toBe('first');
    expect(await ids.remember('msg_1', 'fp-a', NOW + 2 * WINDOW, NOW + WINDOW + 1)).toBe('different');
  });

  it('of two concurrent first requests with different bodies, exactly one is first', async () => {
    const ids = await create();
    const verdicts = await Promise.all([
      ids.remember('msg_race', 'fp-a', NOW + WINDOW, NOW),
      ids.remember('msg_race', 'fp-b', NOW + WINDOW, NOW),
    ]);
    expect(verdicts.sort()).toEqual(['different', 'first']);
  });
});

describe('WebhookIdStore on SQLite', () => {
  it('keeps the ids across a restart (a new store on the same file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hrp-webhook-ids-'));
    try {
      const path = join(dir, 'pipeline.db');
      const db = openLocalDatabase(path);
      await new SqliteWebhookIds(db).remember('msg_1', 'fp-a', NOW + WINDOW, NOW);
      db.close();
      const reopened = new SqliteWebhookIds(openLocalDatabase(path));
      expect(await reopened.remember('msg_1', 'fp-b', NOW + WINDOW, NOW + 1000)).toBe('different');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('WebhookIdStore on DynamoDB', () => {
  it('writes a WEBHOOK#<id> item with the TTL attribute in epoch seconds', async () => {
    const local = await dynalite;
    const tableName = await local.createTable();
    await new DynamoDbWebhookIds(new StateTable(local.client, tableName)).remember(
      'msg_1',
      'fp-a',
      NOW + WINDOW,
      NOW,
    );
    const { Item } = await local.client.send(
      new GetCommand({ TableName: tableName, Key: webhookIdItemKey('msg_1') }),
    );
    expect(Item).toEqual({
      pk: 'WEBHOOK#msg_1',
      sk: 'WEBHOOK',
      fingerprint: 'fp-a',
      expiresAtMs: NOW + WINDOW,
      [TTL_ATTRIBUTE]: (NOW + WINDOW) / 1000,
    });
  });
});
