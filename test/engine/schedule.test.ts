import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryStateStore } from '../../functions/core/adapters/memory';
import { acceptEvents } from '../../functions/core/ingest/accept-events';
import { EnqueueError, type EventQueue, type OutgoingMessage } from '../../functions/core/queue/event-queue';
import { cancelEvent } from '../../functions/core/schedule/cancel-event';
import { releaseDueEvents } from '../../functions/core/schedule/release-due';
import { startScheduler } from '../../local/scheduler';
import { engineFor, event } from '../support/engine-harness';
import { useSandbox } from '../support/sandbox';

/**
 * Effective dates in the core: what acceptEvents schedules, what a sweep releases and in which order, what a
 * queue refusal leaves for the next sweep, and that a cancel racing a release ends with no call.
 */
const T0 = Date.parse('2026-12-01T09:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function recordingQueue(fail: (m: OutgoingMessage) => boolean = () => false) {
  const sent: OutgoingMessage[] = [];
  const queue: EventQueue = {
    send: async (messages) => {
      const failed = messages.filter(fail);
      sent.push(...messages.filter((m) => !fail(m)));
      if (failed.length > 0) {
        throw new EnqueueError(
          failed.map((m) => m.eventId),
          'the queue is unavailable',
        );
      }
    },
  };
  return { queue, sent };
}

const scheduledHire = (id: string, email: string, effectiveMs: number, employeeId = `E-${email}`) => ({
  ...event('hire', email, { id, at: iso(T0 - 1000), employee: { id: employeeId } }),
  effectiveAt: iso(effectiveMs),
});

describe('accepting events with an effective time', () => {
  it('schedules a future effectiveAt, queues a past or absent one, and never queues a scheduled one again', async () => {
    const store = createMemoryStateStore();
    const { queue, sent } = recordingQueue();
    const deps = { store: store.events, queue, now: () => T0 };
    const later = scheduledHire('e-later', 'later@example.com', T0 + 60_000);
    const past = scheduledHire('e-past', 'past@example.com', T0 - 60_000);
    const plain = event('hire', 'plain@example.com', { id: 'e-plain', at: iso(T0) });
    const answers = await acceptEvents([later, past, plain], 'events', deps);
    expect(answers).toEqual([
      { id: 'e-later', status: 'scheduled', dueAt: iso(T0 + 60_000) },
      { id: 'e-past', status: 'queued' },
      { id: 'e-plain', status: 'queued' },
    ]);
    expect(sent.map((m) => m.eventId)).toEqual(['e-past', 'e-plain']);
    // Sent again (a sender's retry): a duplicate, and still not queued before its time.
    const again = await acceptEvents([later], 'events', deps);
    expect(again).toEqual([{ id: 'e-later', status: 'scheduled', dueAt: iso(T0 + 60_000), duplicate: true }]);
    expect(sent.map((m) => m.eventId)).toEqual(['e-past', 'e-plain']);
  });
});

describe('releaseDueEvents', () => {
  it('queues nothing before the time, then what is due in (time, acceptance) order, once', async () => {
    const store = createMemoryStateStore();
    const { queue, sent } = recordingQueue();
    let now = T0;
    const accept = { store: store.events, queue, now: () => now };
    await acceptEvents(
      [
        scheduledHire('e-3', 'c@example.com', T0 + 2_000),
        scheduledHire('e-1', 'a@example.com', T0 + 1_000, 'P'),
        scheduledHire('e-2', 'b@example.com', T0 + 1_000, 'P'),
        scheduledHire('e-4', 'd@example.com', T0 + 5_000),
      ],
      'events',
      accept,
    );
    const release = { store, queue, now: () => now };
    now = T0 + 999;
    expect(await releaseDueEvents(release)).toEqual({ released: 0, failed: 0 });
    expect(sent).toEqual([]);
    now = T0 + 2_000;
    expect(await releaseDueEvents(release)).toEqual({ released: 3, failed: 0 });
    expect(sent.map((m) => m.eventId)).toEqual(['e-1', 'e-2', 'e-3']);
    expect(await store.events.get('e-1')).toMatchObject({ status: 'queued', enqueued: true });
    expect(await store.events.get('e-4')).toMatchObject({ status: 'scheduled' });
    expect(await releaseDueEvents(release)).toEqual({ released: 0, failed: 0 });
    expect(sent).toHaveLength(3);
  });

  it('leaves what the queue refused scheduled for the next sweep, which queues it', async () => {
    const store = createMemoryStateStore();
    let down = true;
    const { queue, sent } = recordingQueue((m) => down && m.eventId === 'e-b');
    await acceptEvents(
      [scheduledHire('e-a', 'a@example.com', T0 + 1), scheduledHire('e-b', 'b@example.com', T0 + 1)],
      'events',
      { store: store.events, queue, now: () => T0 },
    );
    const release = { store, queue, now: () => T0 + 10 };
    expect(await releaseDueEvents(release)).toEqual({ released: 1, failed: 1 });
    expect(await store.events.get('e-b')).toMatchObject({ status: 'scheduled' });
    down = false;
    expect(await releaseDueEvents(release)).toEqual({ released: 1, failed: 0 });
    expect(sent.map((m) => m.eventId)).toEqual(['e-a', 'e-b']);
  });
});

describe('a cancel racing the release', () => {
  const sandbox = useSandbox();

  it('wins after the message was sent: the delivery makes no TrueFoundry call', async () => {
    const { store, deps } = engineFor(sandbox());
    const { queue, sent } = recordingQueue();
    const hire = scheduledHire('e-race', 'race@example.com', T0 + 1);
    await acceptEvents([hire], 'events', { store: store.events, queue, now: () => T0 });
    // The sweep sent it; the operator's cancel lands before the sweep marks it released.
    await queue.send([
      { eventId: hire.id, groupId: 'g', deduplicationId: hire.id, body: JSON.stringify(hire) },
    ]);
    expect((await cancelEvent(hire.id, 'an operator', { store })).cancelled).toBe(true);
    expect(await store.events.release(hire.id, iso(T0 + 2))).toBe(false);
    const { convergeEvent } = await import('../../functions/core/engine/converge-event');
    const outcome = await convergeEvent(hire, deps);
    expect(outcome).toEqual({ status: 'cancelled', note: 'cancelled by an operator' });
    expect(sandbox().calls()).toEqual([]);
    expect(sent).toHaveLength(1);
    expect(await store.events.get(hire.id)).toMatchObject({ status: 'cancelled', attempts: 0 });
  });
});

describe('the local scheduler', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('releases an event at the first tick after its time, and none before', async () => {
    vi.useFakeTimers({ now: T0 });
    const store = createMemoryStateStore();
    const { queue, sent } = recordingQueue();
    await acceptEvents([scheduledHire('e-tick', 'tick@example.com', T0 + 1_000)], 'events', {
      store: store.events,
      queue,
      now: () => T0,
    });
    const scheduler = startScheduler({ store, queue }, 250);
    await vi.advanceTimersByTimeAsync(999);
    expect(sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(250);
    expect(sent.map((m) => m.eventId)).toEqual(['e-tick']);
    await scheduler.stop();
  });
});
