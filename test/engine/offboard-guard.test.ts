import { describe, expect, it } from 'vitest';
import { createMemoryStateStore } from '../../functions/core/adapters/memory';
import { convergeEvent } from '../../functions/core/engine/converge-event';
import { handleEventMessage } from '../../functions/core/engine/handle-event-message';
import { REJECTED_REASON } from '../../functions/core/engine/offboard-guard';
import type { CanonicalEvent } from '../../functions/core/events/canonical-event';
import { parseCanonicalEvent } from '../../functions/core/events/canonical-event';
import { holdsOperations } from '../../functions/core/holds/holds-operator';
import type { EventQueue, OutgoingMessage } from '../../functions/core/queue/event-queue';
import type { Sandbox } from '../../sandbox';
import { callsOf, engineFor, event } from '../support/engine-harness';
import { useSandbox } from '../support/sandbox';

const sandboxOf = useSandbox();
const HOUR = 3_600_000;

/** The engine with a guard of `max` per hour, the holds operations on its store, and a queue that keeps what is sent. */
function setup(sandbox: Sandbox, max: number) {
  const store = createMemoryStateStore();
  const engine = engineFor(sandbox, { store, config: { offboardGuard: { max, windowMs: HOUR } } });
  const sent: OutgoingMessage[] = [];
  const queue: EventQueue = {
    async send(messages) {
      sent.push(...messages);
    },
  };
  let sequence = 0;
  /** Accepted as ingest would (a sequence each), then converged. */
  const run = async (e: CanonicalEvent) => {
    sequence += 1;
    await store.events.accept(e, { source: 'events', at: new Date().toISOString(), sequence });
    return engine.run(e);
  };
  /** What a released message carries, converged as the worker would. */
  const deliver = async (message: OutgoingMessage) => {
    const parsed = parseCanonicalEvent(JSON.parse(message.body));
    if (!parsed.ok) throw new Error('a released message is not an event');
    return convergeEvent(parsed.event, engine.deps);
  };
  return { store, run, deliver, sent, holds: holdsOperations({ store, queue }) };
}

const emails = ['a', 'b', 'c', 'd'].map((n) => `${n}@example.com`);
const seedActive = (sandbox: Sandbox) => {
  for (const email of emails) sandbox.seedUser({ email, roles: ['tenant-member'] });
};
const writes = (sandbox: Sandbox) => callsOf(sandbox).filter((c) => !c.startsWith('GET'));
const activeOf = (sandbox: Sandbox, email: string) => sandbox.users().find((u) => u.email === email)?.active;

describe('offboarding guard in the engine', () => {
  it('deactivates up to the limit and holds the rest with no write; a release deactivates them in order', async () => {
    const sandbox = sandboxOf();
    seedActive(sandbox);
    const { store, run, deliver, sent, holds } = setup(sandbox, 2);
    const offboards = emails.map((email) => event('offboard', email));
    const outcomes = [];
    for (const e of offboards) outcomes.push(await run(e));
    expect(outcomes.map((o) => o.status)).toEqual(['succeeded', 'succeeded', 'held', 'held']);
    expect(writes(sandbox)).toEqual(['PATCH /deactivate', 'PATCH /deactivate']);
    expect(emails.map((e) => activeOf(sandbox, e))).toEqual([false, false, true, true]);

    const listed = await holds.list();
    expect(listed.map((h) => h.id)).toEqual([offboards[2]?.id, offboards[3]?.id]);
    expect(listed[0]).toMatchObject({
      type: 'offboard',
      email: 'c@example.com',
      reason: expect.stringMatching(/2 deactivations within 60 minutes/),
    });
    expect((await store.events.list({ status: 'held', limit: 10 })).records).toHaveLength(2);

    sandbox.clearCalls();
    const report = await holds.release({ all: true });
    expect(report).toEqual({
      released: [offboards[2]?.id, offboards[3]?.id],
      notHeld: [],
      blocked: [],
      failed: [],
    });
    expect(sent.map((m) => [m.eventId, m.groupId, m.deduplicationId])).toEqual([
      [offboards[2]?.id, 'id:E-c@example.com', `${offboards[2]?.id}#release-1`],
      [offboards[3]?.id, 'id:E-d@example.com', `${offboards[3]?.id}#release-1`],
    ]);
    expect((await store.events.get(offboards[2]?.id ?? ''))?.status).toBe('queued');
    // The window is still full: released events are admitted without counting.
    for (const message of sent) expect((await deliver(message)).status).toBe('succeeded');
    expect(writes(sandbox)).toEqual(['PATCH /deactivate', 'PATCH /deactivate']);
    expect(emails.map((e) => activeOf(sandbox, e))).toEqual([false, false, false, false]);
    expect(await holds.list()).toEqual([]);
  });

  it('holds a later event of a person behind their held offboard, and releases them in acceptance order', async () => {
    const sandbox = sandboxOf();
    seedActive(sandbox);
    const { store, run, deliver, sent, holds } = setup(sandbox, 1);
    await run(event('offboard', 'a@example.com'));
    const held = event('offboard', 'b@example.com');
    expect((await run(held)).status).toBe('held');
    sandbox.clearCalls();
    // A role change (and a rehire) must not overtake the held offboard: held too, with no call at all.
    const roleChange = event('role_change', 'b@example.com', { roles: ['tenant-admin'] });
    const outcome = await run(roleChange);
    expect(outcome).toMatchObject({
      status: 'held',
      reason: expect.stringContaining(`held behind ${held.id}`),
    });
    expect(callsOf(sandbox)).toEqual([]);
    expect((await store.events.get(roleChange.id))?.status).toBe('held');

    // Releasing the later one alone would let it overtake: refused as blocked, both stay held.
    expect(await holds.release({ ids: [roleChange.id, 'evt-unknown'] })).toEqual({
      released: [],
      notHeld: ['evt-unknown'],
      blocked: [{ id: roleChange.id, behind: held.id }],
      failed: [],
    });
    expect(sent).toEqual([]);

    expect((await holds.release({ all: true })).released).toEqual([held.id, roleChange.id]);
    const statuses = [];
    for (const message of sent) statuses.push((await deliver(message)).status);
    expect(statuses).toEqual(['succeeded', 'succeeded']);
    // The offboard applied first; the role change after it cannot undo the lockout.
    expect(activeOf(sandbox, 'b@example.com')).toBe(false);
    expect(writes(sandbox)).toEqual(['PATCH /deactivate']);
  });

  it('rejects: the event ends failed with the reason and no call, also when its old message comes again', async () => {
    const sandbox = sandboxOf();
    seedActive(sandbox);
    const { store, run, holds } = setup(sandbox, 1);
    await run(event('offboard', 'a@example.com'));
    const held = event('offboard', 'b@example.com');
    await run(held);
    const behind = event('role_change', 'b@example.com', { roles: ['tenant-admin'] });
    await run(behind);
    sandbox.clearCalls();

    expect(await holds.reject([held.id, 'evt-unknown'])).toEqual({
      rejected: [held.id],
      notHeld: ['evt-unknown'],
    });
    expect(await store.events.get(held.id)).toMatchObject({ status: 'failed', error: REJECTED_REASON });
    // The person's later held event stays held until it is released or rejected in turn.
    expect((await store.events.get(behind.id))?.status).toBe('held');
    // A redelivery of the rejected event's message (its delete was lost) fails it again, with no call.
    const verdict = await handleEventMessage(
      { messageId: 'm-again', body: JSON.stringify(held), receiveCount: 2 },
      { ...engineDeps(store, sandbox), maxAttempts: 5 },
    );
    expect(verdict).toEqual({ action: 'dead-letter', reason: REJECTED_REASON });
    expect(callsOf(sandbox)).toEqual([]);
    expect(activeOf(sandbox, 'b@example.com')).toBe(true);
  });

  it('does not count an offboard that deactivates nothing, nor hold it', async () => {
    const sandbox = sandboxOf();
    seedActive(sandbox);
    sandbox.seedUser({ email: 'gone@example.com', roles: ['tenant-member'], active: false });
    const { run } = setup(sandbox, 1);
    expect((await run(event('offboard', 'a@example.com'))).status).toBe('succeeded');
    // Full now; but these have nothing to deactivate (never in TrueFoundry; already deactivated).
    expect((await run(event('offboard', 'nobody@example.com'))).status).toBe('succeeded');
    expect((await run(event('offboard', 'gone@example.com'))).status).toBe('succeeded');
    expect((await run(event('offboard', 'b@example.com'))).status).toBe('held');
  });

  it('holds nothing when the limit is 0 (off)', async () => {
    const sandbox = sandboxOf();
    seedActive(sandbox);
    const { run } = setup(sandbox, 0);
    const outcomes = [];
    for (const email of emails) outcomes.push((await run(event('offboard', email))).status);
    expect(outcomes).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(writes(sandbox)).toHaveLength(4);
  });

  it('keeps a redelivered held event held, its message done', async () => {
    const sandbox = sandboxOf();
    seedActive(sandbox);
    const { store, run } = setup(sandbox, 1);
    await run(event('offboard', 'a@example.com'));
    const held = event('offboard', 'b@example.com');
    await run(held);
    sandbox.clearCalls();
    const verdict = await handleEventMessage(
      { messageId: 'm-again', body: JSON.stringify(held), receiveCount: 2 },
      { ...engineDeps(store, sandbox), maxAttempts: 5 },
    );
    expect(verdict).toMatchObject({ action: 'delete', outcome: { status: 'held' } });
    expect(callsOf(sandbox)).toEqual([]);
    expect((await store.events.get(held.id))?.status).toBe('held');
  });
});

function engineDeps(store: ReturnType<typeof createMemoryStateStore>, sandbox: Sandbox) {
  return engineFor(sandbox, { store, config: { offboardGuard: { max: 1, windowMs: HOUR } } }).deps;
}
