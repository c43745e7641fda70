import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox';
import {
  api,
  type RuntimeProcess,
  removeDataDir,
  startEmulatorProcess,
  waitFor,
} from '../support/runtime-process';
import {
  hire,
  hrProvisioning,
  lostDeletesLeft,
  messagesOnQueue,
  settled,
  sqsFaults,
} from './emulate-harness';

/*
 * The ingest bundle against an SQS that fails some SendMessageBatch entries, through the emulated SQS
 * endpoint's fault switch (fauxqs never fails an entry itself): a failed entry is retried without putting
 * the person's later events ahead of it, and an entry SQS refuses as the sender's fault is answered 422 at
 * once and recorded failed, never 503 (a retry could never succeed). And a delivery whose delete SQS lost
 * (at-least-once delivery) after the worker dead-lettered its event is neither run nor dead-lettered again.
 */

let sandbox: Sandbox;
let emulator: RuntimeProcess;

beforeAll(async () => {
  sandbox = await startSandbox();
  emulator = await startEmulatorProcess({ TFY_BASE_URL: sandbox.url, TFY_API_KEY: sandbox.apiKey });
}, 200_000);

afterAll(async () => {
  if (emulator) {
    await emulator.stop();
    removeDataDir(emulator.dataDir);
  }
  await sandbox?.close();
});

beforeEach(async () => {
  await sqsFaults(emulator, {});
});

/** A person's hire, then a role change a minute later: a queue that reorders them runs the change first. */
function hireThenPromote(prefix: string, employeeId: string, email: string) {
  return [
    hire(`${prefix}-hire`, employeeId, email),
    {
      ...hire(`${prefix}-promote`, employeeId, email),
      type: 'role_change',
      occurredAt: '2026-01-05T09:01:00Z',
      roles: ['tenant-admin'],
    },
  ];
}

/** When an event ended: a person's later event ends after the earlier one when the queue kept them in order. */
const endedAt = (view: Record<string, unknown>) => Date.parse(String(view.updatedAt));

describe('npm run emulate: SendMessageBatch entries that fail', () => {
  it('retries a failed entry before sending the same person’s later event: both apply, in order', async () => {
    const [first, second] = hireThenPromote('order', 'E-ORDER', 'order@example.com');
    await sqsFaults(emulator, { sendFailures: [{ groupId: 'id:E-ORDER', code: 'InternalError', times: 1 }] });
    const answer = await api(emulator, 'POST', '/events', { events: [first, second] });
    expect(answer.status, JSON.stringify(answer.json)).toBe(202);

    const hired = await settled(emulator, 'order-hire');
    const promoted = await settled(emulator, 'order-promote');
    // Reordered, the role change would run first and the hire would end superseded by it.
    expect(hired.status).toBe('succeeded');
    expect(promoted.status).toBe('succeeded');
    expect(endedAt(promoted)).toBeGreaterThanOrEqual(endedAt(hired));
    expect(sandbox.users().find((u) => u.email === 'order@example.com')?.roles).toEqual(['tenant-admin']);
  });

  it('answers 503 when an entry keeps failing, sends none of that person’s later events, and a retry queues both in order', async () => {
    const [first, second] = hireThenPromote('later', 'E-LATER', 'later@example.com');
    const other = hire('later-other', 'E-OTHER', 'other@example.com');
    // More failures than the ingest's attempts at one batch.
    await sqsFaults(emulator, {
      sendFailures: [{ groupId: 'id:E-LATER', code: 'InternalError', times: 100 }],
    });
    const refused = await api(emulator, 'POST', '/events', { events: [first, second, other] });
    expect(refused.status, JSON.stringify(refused.json)).toBe(503);
    expect(refused.json).toMatchObject({ error: 'queue_unavailable' });
    // The other person's event was taken; this person's are recorded, not queued, and nothing ran for them.
    expect((await settled(emulator, 'later-other')).status).toBe('succeeded');
    for (const id of ['later-hire', 'later-promote']) {
      expect((await api(emulator, 'GET', `/events/${id}`)).json).toMatchObject({ status: 'queued' });
    }
    expect(sandbox.calls().filter((call) => call.query?.query === 'later@example.com')).toEqual([]);

    await sqsFaults(emulator, {});
    const retried = await api(emulator, 'POST', '/events', { events: [first, second, other] });
    expect(retried.status, JSON.stringify(retried.json)).toBe(202);
    const hired = await settled(emulator, 'later-hire');
    const promoted = await settled(emulator, 'later-promote');
    expect([hired.status, promoted.status]).toEqual(['succeeded', 'succeeded']);
    expect(endedAt(promoted)).toBeGreaterThanOrEqual(endedAt(hired));
    expect(sandbox.users().find((u) => u.email === 'later@example.com')?.roles).toEqual(['tenant-admin']);
  });

  it('answers 422 for an entry SQS refuses as the sender’s fault, records it failed, and queues the rest', async () => {
    const refusedEvent = hire('fault-bad', 'E-BAD', 'bad@example.com');
    const fine = hire('fault-fine', 'E-FINE', 'fine@example.com');
    await sqsFaults(emulator, {
      sendFailures: [{ groupId: 'id:E-BAD', code: 'InvalidMessageContents', senderFault: true, times: 100 }],
    });
    const answer = await api(emulator, 'POST', '/events', { events: [refusedEvent, fine] });
    expect(answer.status, JSON.stringify(answer.json)).toBe(422);
    expect(answer.json).toMatchObject({
      error: 'unqueueable',
      events: [{ id: 'fault-bad', error: expect.stringContaining('InvalidMessageContents') }],
    });
    expect((await api(emulator, 'GET', '/events/fault-bad')).json).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('the queue refused the event: InvalidMessageContents'),
    });
    expect((await settled(emulator, 'fault-fine')).status).toBe('succeeded');
    expect(sandbox.users().find((u) => u.email === 'bad@example.com')).toBeUndefined();
    // Refused by the queue, never dead-lettered: there is nothing to redrive.
    const letters = await hrProvisioning(emulator, ['dlq', 'list', '--json']);
    expect(JSON.parse(letters.stdout)).toMatchObject({ deadLetters: [] });
  });
});

describe('npm run emulate: a delivery SQS hands out again after its delete was lost', () => {
  it('does not run a dead-lettered event again, nor dead-letter it twice', async () => {
    const email = 'lost.delete@example.com';
    sandbox.seedUser({ email });
    // TrueFoundry refuses the roles (422): permanent, so the worker dead-letters the event at once.
    sandbox.setFaults({
      scripted: [{ method: 'PATCH', path: '/api/svc/v1/users/roles', status: 422, times: 5 }],
    });
    const rolesCalls = () => sandbox.calls().filter((call) => call.path === '/api/svc/v1/users/roles');
    const rolesCallsBefore = rolesCalls().length;
    await sqsFaults(emulator, { lostDeleteBatches: 1 });
    const event = { ...hire('lost-1', 'E-LOST', email), type: 'role_change', roles: ['tenant-admin'] };
    expect((await api(emulator, 'POST', '/events', event)).status).toBe(202);
    expect(await settled(emulator, 'lost-1')).toMatchObject({ status: 'failed', attempts: 1 });
    // The delete was lost: the message comes back, and this time it is deleted.
    await waitFor('the lost delete', async () =>
      (await lostDeletesLeft(emulator)) === 0 ? true : undefined,
    );
    await waitFor('the redelivery to be deleted', async () =>
      (await messagesOnQueue(emulator)) === 0 ? true : undefined,
    );
    const run = await hrProvisioning(emulator, ['dlq', 'list', '--json']);
    const letters = (JSON.parse(run.stdout) as { deadLetters: { eventId: string }[] }).deadLetters;
    expect(letters.filter((letter) => letter.eventId === 'lost-1')).toHaveLength(1);
    // One run: one roles call, not a second for the redelivery.
    expect(rolesCalls().length - rolesCallsBefore).toBe(1);
    expect((await api(emulator, 'GET', '/events/lost-1')).json).toMatchObject({
      status: 'failed',
      attempts: 1,
    });
  });
});
