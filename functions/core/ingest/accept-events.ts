import type { EventStatus, EventStore } from '../engine/ports';
import type { CanonicalEvent } from '../events/canonical-event';
import { EnqueueError, type EventQueue, messageOf } from '../queue/event-queue';
import type { ConflictCheck } from './id-conflicts';
import { mapWithConcurrency } from './map-with-concurrency';

/** `conflict`: the id was already recorded for another source or another event; this one was not taken. */
export type AcceptedEvent = { id: string; status: EventStatus; duplicate?: true; conflict?: string };

export type AcceptDeps = { store: EventStore; queue: EventQueue; now?: () => number };

/**
 * Records each event, then enqueues the new ones, then marks them enqueued. An id seen before answers its
 * existing status and is not enqueued again — unless it was recorded but never confirmed on the queue
 * (a crash or a queue outage between the two), in which case it is enqueued now, so nothing accepted is lost.
 * Throws (EnqueueError) when the queue refuses: the caller answers 503 and the sender retries.
 * An id already recorded that `conflictOf` refuses is answered with the conflict and never enqueued: the
 * callers check before recording, and this catches a request that recorded the id in between.
 */
export async function acceptEvents(
  events: CanonicalEvent[],
  source: string,
  deps: AcceptDeps,
  conflictOf: ConflictCheck = () => undefined,
): Promise<AcceptedEvent[]> {
  const at = new Date((deps.now ?? Date.now)()).toISOString();
  const firstOfEachId = new Map<string, CanonicalEvent>();
  for (const event of events) if (!firstOfEachId.has(event.id)) firstOfEachId.set(event.id, event);

  const unique = [...firstOfEachId.values()];
  // Acceptance order decides between a person's events with equal timestamps; numbers of repeats go unused.
  const firstSequence = unique.length > 0 ? await deps.store.reserveSequences(unique.length) : 0;
  const sequenceOf = new Map(unique.map((event, i) => [event, firstSequence + i]));
  const recorded = await mapWithConcurrency(unique, 32, async (event) => {
    const result = await deps.store.accept(event, { source, at, sequence: sequenceOf.get(event) ?? 0 });
    return { event, ...result, conflict: result.created ? undefined : conflictOf(event, result.record) };
  });
  const toEnqueue = recorded
    // Not confirmed on the queue: queue it now, unless the queue refused it as invalid (then it is failed).
    .filter(
      (r) => r.conflict === undefined && (r.created || (!r.record.enqueued && r.record.status !== 'failed')),
    )
    .map((r) => r.event);
  if (toEnqueue.length > 0) {
    try {
      await deps.queue.send(toEnqueue.map(messageOf));
    } catch (error) {
      if (error instanceof EnqueueError) {
        // The queue took the others: confirm them, so the sender's retry enqueues only what is missing.
        const failed = new Set(error.failedEventIds);
        const sent = toEnqueue.filter((event) => !failed.has(event.id));
        await mapWithConcurrency(sent, 32, (event) => deps.store.markEnqueued(event.id, at));
        // What the queue refused as invalid can never be queued: it ends `failed` with the queue's reason
        // rather than staying `queued` for good.
        await mapWithConcurrency([...error.rejected], 32, ([eventId, reason]) =>
          deps.store.finish(eventId, {
            status: 'failed',
            at,
            error: `the queue refused the event: ${reason}`,
          }),
        );
      }
      throw error;
    }
    await mapWithConcurrency(toEnqueue, 32, (event) => deps.store.markEnqueued(event.id, at));
  }
  // An event recorded by an earlier request that was answered 503 (never confirmed on the queue) is not a
  // duplicate to its sender: that request failed, and this one is what queues it.
  const answers = new Map(
    recorded.map((r): [string, AcceptedEvent] => [
      r.event.id,
      r.conflict !== undefined
        ? { id: r.event.id, status: r.record.status, conflict: r.conflict }
        : r.created
          ? { id: r.event.id, status: 'queued' }
          : r.record.enqueued
            ? { id: r.event.id, status: r.record.status, duplicate: true }
            : { id: r.event.id, status: r.record.status },
    ]),
  );
  // One answer per submitted event, in order; a repeat inside the same request is a duplicate too (or the
  // same conflict).
  const answered = new Set<string>();
  return events.map((event) => {
    const answer = answers.get(event.id) ?? { id: event.id, status: 'queued' };
    if (answered.has(event.id) && answer.conflict === undefined) {
      return { id: event.id, status: answer.status, duplicate: true };
    }
    answered.add(event.id);
    return answer;
  });
}
