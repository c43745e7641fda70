import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type QueueOptions, SqliteEventQueue } from '../../functions/core/adapters/sqlite/sqlite-event-queue';
import type { OutgoingMessage } from '../../functions/core/queue/event-queue';
import { type LocalDatabase, openLocalDatabase } from '../../local/database';

const dirs: string[] = [];
const queues: SqliteEventQueue[] = [];

afterEach(() => {
  for (const queue of queues.splice(0)) queue.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function fileDb(): { path: string; open: () => LocalDatabase } {
  const dir = mkdtempSync(join(tmpdir(), 'hrp-queue-'));
  dirs.push(dir);
  const path = join(dir, 'queue.db');
  return { path, open: () => openLocalDatabase(path) };
}

function queueOn(db: LocalDatabase, options: Partial<QueueOptions> = {}): SqliteEventQueue {
  const queue = new SqliteEventQueue(db, { visibilityTimeoutMs: 60_000, maxReceiveCount: 3, ...options });
  queues.push(queue);
  return queue;
}

const message = (eventId: string, groupId: string): OutgoingMessage => ({
  eventId,
  groupId,
  deduplicationId: eventId,
  body: JSON.stringify({ id: eventId }),
});

const ids = (messages: { eventId: string }[]) => messages.map((m) => m.eventId);

describe('SqliteEventQueue: SQS FIFO semantics on SQLite', () => {
  it('hands out one message per group at a time, in order, with groups in parallel', async () => {
    const queue = queueOn(openLocalDatabase(':memory:'));
    await queue.send([message('a1', 'A'), message('a2', 'A'), message('b1', 'B'), message('a3', 'A')]);
    const first = await queue.receive(10, 0);
    expect(ids(first)).toEqual(['a1', 'b1']);
    expect(await queue.receive(10, 0)).toEqual([]);
    const a1 = first.find((m) => m.eventId === 'a1');
    if (!a1) throw new Error('a1 not received');
    queue.delete(a1);
    expect(ids(await queue.receive(10, 0))).toEqual(['a2']);
  });

  it('drops a repeated deduplication id within the window, as SQS FIFO does', async () => {
    const queue = queueOn(openLocalDatabase(':memory:'));
    await queue.send([message('e1', 'A')]);
    await queue.send([message('e1', 'A'), message('e2', 'A')]);
    expect(queue.depth()).toMatchObject({ queued: 2 });
  });

  it('keeps a group waiting while its head is delayed, then delivers it again with a higher receive count', async () => {
    const queue = queueOn(openLocalDatabase(':memory:'));
    await queue.send([message('a1', 'A'), message('a2', 'A'), message('b1', 'B')]);
    const [a1] = await queue.receive(1, 0);
    if (!a1) throw new Error('nothing received');
    queue.retryLater(a1, 80);
    expect(ids(await queue.receive(10, 0))).toEqual(['b1']);
    const again = await queue.receive(10, 1_000);
    expect(again).toEqual([expect.objectContaining({ eventId: 'a1', receiveCount: 2 })]);
  });

  it('delivers a message again once its visibility timeout runs out (a hung worker)', async () => {
    const queue = queueOn(openLocalDatabase(':memory:'), { visibilityTimeoutMs: 50 });
    await queue.send([message('a1', 'A')]);
    const [first] = await queue.receive(1, 0);
    const [second] = await queue.receive(1, 1_000);
    expect(second).toMatchObject({ eventId: 'a1', receiveCount: 2 });
    // The first receipt is stale now: deleting with it changes nothing.
    if (first) queue.delete(first);
    expect(queue.depth()).toMatchObject({ inFlight: 1 });
  });

  it('buries a message past its delivery budget with a reason, and reports it', async () => {
    const queue = queueOn(openLocalDatabase(':memory:'), { maxReceiveCount: 2 });
    await queue.send([message('a1', 'A'), message('a2', 'A')]);
    for (let i = 0; i < 2; i++) {
      const [m] = await queue.receive(1, 0);
      if (m) queue.retryLater(m, 0);
    }
    const buried: string[] = [];
    const next = await queue.receive(1, 0, (letter) => buried.push(`${letter.eventId}: ${letter.reason}`));
    expect(buried).toEqual(['a1: delivered 2 times without completing']);
    expect(ids(next)).toEqual(['a2']);
  });

  it('dead-letters on demand and redrives with a fresh budget', async () => {
    const queue = queueOn(openLocalDatabase(':memory:'));
    await queue.send([message('a1', 'A'), message('b1', 'B')]);
    const received = await queue.receive(2, 0);
    for (const m of received) queue.deadLetter(m, `refused ${m.eventId}`);
    expect(queue.deadLetters().map((l) => [l.eventId, l.reason])).toEqual([
      ['a1', 'refused a1'],
      ['b1', 'refused b1'],
    ]);
    expect(ids(queue.redrive(['b1']))).toEqual(['b1']);
    expect(ids(queue.deadLetters())).toEqual(['a1']);
    expect(await queue.receive(10, 0)).toEqual([expect.objectContaining({ eventId: 'b1', receiveCount: 1 })]);
  });

  it('survives a restart: queued, delayed and in-flight messages are all still there', async () => {
    const file = fileDb();
    const db = file.open();
    const queue = queueOn(db);
    await queue.send([message('a1', 'A'), message('a2', 'A'), message('b1', 'B'), message('c1', 'C')]);
    const received = await queue.receive(3, 0);
    const c1 = received.find((m) => m.eventId === 'c1');
    if (c1) queue.retryLater(c1, 60_000);
    // No delete, no close: as after kill -9, in-flight a1 and b1 hold receipts.
    queue.close();

    const reopened = queueOn(file.open());
    const again = await reopened.receive(10, 0);
    expect(ids(again).sort()).toEqual(['a1', 'b1']);
    expect(again.every((m) => m.receiveCount === 2)).toBe(true);
    expect(reopened.depth()).toMatchObject({ queued: 2, inFlight: 2 });
    db.close();
  });

  it('long-polls: a receive waiting for work returns as soon as a message is sent', async () => {
    const queue = queueOn(openLocalDatabase(':memory:'));
    // A wait no test outlasts: only the send can end it. The queue is empty, so the receive is waiting already.
    const waiting = queue.receive(1, 10 * 60_000);
    await queue.send([message('late', 'L')]);
    expect(ids(await waiting)).toEqual(['late']);
  });
});
