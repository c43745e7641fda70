import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStateStore } from '../../functions/core/adapters/sqlite';
import { SqliteEventQueue } from '../../functions/core/adapters/sqlite/sqlite-event-queue';
import { SqliteWebhookIds } from '../../functions/core/adapters/sqlite/sqlite-webhook-ids';
import type { StateStore } from '../../functions/core/engine/ports';
import type { IngestRequest, IngestResponse } from '../../functions/core/ingest/http';
import { createIngestApp } from '../../functions/core/ingest/ingest-app';
import { type LocalDatabase, openLocalDatabase } from '../../local/database';
import { GroupCommit } from '../../local/group-commit';

/*
 * The ingest app wired as local/runtime.ts wires it: the SQLite store and queue, each request's writes a unit
 * of the group commit. Requests started in the same turn of the event loop share one group.
 */

const TOKEN = 'group-commit-test-token-0123456789';

let dir: string;
let db: LocalDatabase;
let commits: GroupCommit;
let store: StateStore;
let queue: SqliteEventQueue;
let ingest: (request: IngestRequest) => Promise<IngestResponse>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hrp-group-commit-ingest-'));
  db = openLocalDatabase(join(dir, 'pipeline.db'));
  commits = new GroupCommit(db);
  store = createSqliteStateStore(db);
  queue = new SqliteEventQueue(db, {
    visibilityTimeoutMs: 60_000,
    maxReceiveCount: 5,
    afterCommit: commits.afterCommit,
  });
  ingest = createIngestApp({
    store: store.events,
    queue,
    credentials: async () => ({ ingestToken: TOKEN }),
    webhookIds: new SqliteWebhookIds(db),
    unitOfWork: commits.run,
  });
});

afterEach(() => {
  queue.close();
  db.close();
  commits.close();
  rmSync(dir, { recursive: true, force: true });
});

function postEvent(id: string): Promise<IngestResponse> {
  const body = JSON.stringify({
    id,
    type: 'hire',
    occurredAt: '2026-11-29T09:00:00Z',
    employee: { id: `E-${id}`, email: `${id}@example.com`, name: `Person ${id}` },
    roles: ['tenant-member'],
  });
  return ingest({
    method: 'POST',
    path: '/events',
    query: {},
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: Buffer.from(body),
  });
}

/**
 * Makes SQLite refuse the COMMIT of any transaction that records `poisonId`: a deferred foreign key is only
 * checked at commit, so every write before it succeeds and the whole group's commit fails.
 */
function refuseCommitsRecording(poisonId: string): void {
  db.exec(`CREATE TABLE poison_parents (id INTEGER PRIMARY KEY);
    CREATE TABLE poison_children (parent INTEGER REFERENCES poison_parents (id) DEFERRABLE INITIALLY DEFERRED);
    CREATE TRIGGER poison AFTER INSERT ON event_records WHEN NEW.event_id = '${poisonId}'
    BEGIN INSERT INTO poison_children (parent) VALUES (42); END;`);
}

describe('ingest under group commit', () => {
  it('answers 202 to concurrent requests once their one commit is done, each event recorded and queued', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `gc-ok-${i}`);

    const answers = await Promise.all(ids.map((id) => postEvent(id)));

    expect(answers.map((a) => a.status)).toEqual(ids.map(() => 202));
    for (const id of ids)
      expect(await store.events.get(id)).toMatchObject({ status: 'queued', enqueued: true });
    expect(queue.depth().queued).toBe(ids.length);
  });

  it('answers 5xx to every request of a group whose commit fails, and records and queues none of them', async () => {
    refuseCommitsRecording('gc-poison');
    const ids = ['gc-a', 'gc-b', 'gc-poison', 'gc-c'];

    // Started in one turn of the event loop: one group.
    const answers = await Promise.all(ids.map((id) => postEvent(id)));

    for (const answer of answers) {
      expect(answer.status).toBe(500);
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'internal_error' });
    }
    for (const id of ids) expect(await store.events.get(id)).toBeUndefined();
    expect(queue.depth().queued).toBe(0);

    // The senders retry; without the poisoned event, the same requests are accepted.
    const retried = await Promise.all(['gc-a', 'gc-b', 'gc-c'].map((id) => postEvent(id)));
    expect(retried.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(queue.depth().queued).toBe(3);
  });
});
