import type { EventRecord, EventStatus, EventStore, Log } from '../engine/ports';
import { type CanonicalEvent, effectiveTimeOf } from '../events/canonical-event';
import { EnqueueError, type EventQueue, messageOf } from '../queue/event-queue';
import { type IngestResponse, problem } from './http';

/*
 * How the events of a request enter the pipeline, once: an id already recorded is a duplicate or a
 * conflict (ids are the idempotency key), new events are recorded then enqueued, and a queue that refuses
 * is answered so that the sender's retry loses nothing.
 */

/** A normalised event as a sender submitted it, with what the pipeline filled in for it. */
export type Submission = {
  event: CanonicalEvent;
  /** The id was derived from the content (no id was sent): equal ids already mean equal instructions. */
  derivedId?: true;
  /** occurredAt is the receipt time (none was sent); a resumed upload receives it again at another time. */
  occurredAtDefaulted?: true;
};

/** Says why an event may not take an id that is already recorded, or undefined when it is a duplicate. */
export type ConflictCheck = (event: CanonicalEvent, record: EventRecord) => string | undefined;

/**
 * `batch:<id>` → `batch`: the sources whose ids share one namespace. `events`, what POST /events recorded
 * before it told the signed webhook and the bearer token apart, is the token's.
 */
export const sourceFamily = (source: string): string => {
  const family = source.split(':', 1)[0] ?? source;
  return family === 'events' ? 'token' : family;
};

// Records the pipeline made for a message whose sender it did not know (it reached the queue without its
// ingest record, or was redriven): they claim no namespace, so only their content is compared.
const SENDER_UNKNOWN: ReadonlySet<string> = new Set(['queue', 'redrive']);

/**
 * An id already recorded is the same instruction again (a duplicate), or a conflict: it came from another
 * source (each source has its own ids), or it is an id the sender chose and the event differs. A derived
 * id is compared by source only: it is made from what makes the instruction (a CSV row's type, person and
 * roles, a BambooHR delivery), and what it leaves out (a name, a looked-up field) may differ on a redelivery.
 */
export function idConflictCheck(source: string, submissions: readonly Submission[]): ConflictCheck {
  const byId = new Map<string, Submission>();
  for (const submission of submissions) {
    if (!byId.has(submission.event.id)) byId.set(submission.event.id, submission);
  }
  const family = sourceFamily(source);
  return (event, record) => {
    const recordFamily = sourceFamily(record.source);
    if (recordFamily !== family && !SENDER_UNKNOWN.has(recordFamily)) {
      return `id ${event.id} belongs to another source (${recordFamily}); choose an id of your own`;
    }
    const submission = byId.get(event.id);
    if (submission?.derivedId) return undefined;
    return sameInstruction(event, record.event, submission?.occurredAtDefaulted === true)
      ? undefined
      : `id ${event.id} was already used for a different event; an id names one instruction, send a new one with a new id`;
  };
}

/** Equal as stored, keys in any order; without occurredAt when the sender did not give it. */
export function sameInstruction(a: CanonicalEvent, b: CanonicalEvent, ignoreOccurredAt: boolean): boolean {
  const key = (event: CanonicalEvent) =>
    stableJson(ignoreOccurredAt ? { ...event, occurredAt: undefined } : event);
  return key(a) === key(b);
}

/** JSON with object keys sorted and undefined members left out, so equal values give equal text. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, member: unknown) =>
    typeof member === 'object' && member !== null && !Array.isArray(member)
      ? Object.fromEntries(Object.entries(member).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : member,
  );
}

/** The conflicts among events whose ids are already recorded, by id; read before anything is recorded. */
export async function findIdConflicts(
  events: readonly CanonicalEvent[],
  check: ConflictCheck,
  store: EventStore,
): Promise<Map<string, string>> {
  const firstOfEachId = new Map<string, CanonicalEvent>();
  for (const event of events) if (!firstOfEachId.has(event.id)) firstOfEachId.set(event.id, event);
  const found = await mapWithConcurrency([...firstOfEachId.values()], 32, async (event) => {
    const record = await store.get(event.id);
    return [event.id, record && check(event, record)] as const;
  });
  return new Map(found.filter((entry): entry is readonly [string, string] => entry[1] !== undefined));
}

/**
 * `conflict`: the id was already recorded for another source or another event; this one was not taken.
 * `dueAt`: a `scheduled` event runs then.
 */
export type AcceptedEvent = {
  id: string;
  status: EventStatus;
  dueAt?: string;
  duplicate?: true;
  conflict?: string;
};

/** Recorded but never confirmed on the queue, and still to run: a resubmission queues these. */
const REQUEUABLE: ReadonlySet<EventStatus> = new Set(['queued', 'running']);

/**
 * When the event waits for its effective time: its `effectiveAt`, if that is after `at`; else it is due now.
 * An `occurredAt` a little ahead (clock skew, which ingest allows) schedules nothing.
 */
export function dueAtOf(event: CanonicalEvent, at: string): string | undefined {
  if (event.effectiveAt === undefined) return undefined;
  const effective = effectiveTimeOf(event);
  return effective > at ? effective : undefined;
}

const answerOf = (record: EventRecord): AcceptedEvent =>
  record.status === 'scheduled' && record.dueAt !== undefined
    ? { id: record.eventId, status: 'scheduled', dueAt: record.dueAt }
    : { id: record.eventId, status: record.status };

/**
 * Runs one request's writes as a unit and settles once they are durable. The local runtime commits the units
 * of concurrent requests together in one SQLite transaction (local/group-commit.ts); without one (AWS), each
 * write is durable when it resolves and the unit simply runs.
 */
export type UnitOfWork = <T>(work: () => Promise<T>) => Promise<T>;

export type AcceptDeps = {
  store: EventStore;
  queue: EventQueue;
  now?: () => number;
  unitOfWork?: UnitOfWork;
};

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
  if (deps.unitOfWork) return deps.unitOfWork(() => recordAndEnqueue(events, source, deps, conflictOf));
  return recordAndEnqueue(events, source, deps, conflictOf);
}

/** acceptEvents' writes, in one unit of work when the runtime has one. */
async function recordAndEnqueue(
  events: CanonicalEvent[],
  source: string,
  deps: AcceptDeps,
  conflictOf: ConflictCheck,
): Promise<AcceptedEvent[]> {
  const at = new Date((deps.now ?? Date.now)()).toISOString();
  const firstOfEachId = new Map<string, CanonicalEvent>();
  for (const event of events) if (!firstOfEachId.has(event.id)) firstOfEachId.set(event.id, event);

  const unique = [...firstOfEachId.values()];
  // Acceptance order decides between a person's events with equal timestamps; numbers of repeats go unused.
  const firstSequence = unique.length > 0 ? await deps.store.reserveSequences(unique.length) : 0;
  const sequenceOf = new Map(unique.map((event, i) => [event, firstSequence + i]));
  const recorded = await mapWithConcurrency(unique, 32, async (event) => {
    const dueAt = dueAtOf(event, at);
    const result = await deps.store.accept(event, {
      source,
      at,
      sequence: sequenceOf.get(event) ?? 0,
      ...(dueAt === undefined ? {} : { dueAt }),
    });
    return { event, ...result, conflict: result.created ? undefined : conflictOf(event, result.record) };
  });
  const toEnqueue = recorded
    // Not confirmed on the queue: queue it now, unless the queue refused it as invalid (then it is failed),
    // or it waits for its effective time (the scheduler queues it then) or was cancelled.
    .filter((r) => r.conflict === undefined && !r.record.enqueued && REQUEUABLE.has(r.record.status))
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
          ? answerOf(r.record)
          : r.record.enqueued || !REQUEUABLE.has(r.record.status)
            ? { ...answerOf(r.record), duplicate: true }
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

/** The queue refused: nothing is lost (the events are recorded, not confirmed), the sender retries. */
export function serviceUnavailable(error: EnqueueError, deps: { log?: Log }): IngestResponse {
  deps.log?.error('enqueue failed', { failed: error.failedEventIds.length, reason: error.message });
  if (error.permanent) {
    // A retry would be refused the same way: the sender has to change the event, not wait.
    return problem(422, {
      error: 'unqueueable',
      message: `the queue refused ${error.rejected.size} event(s) as invalid; they are recorded as failed`,
      events: [...error.rejected].map(([id, reason]) => ({ id, error: reason })),
    });
  }
  return problem(
    503,
    { error: 'queue_unavailable', message: 'the events could not be queued; retry the same request' },
    { 'retry-after': '5' },
  );
}

// Ten lines instead of a dependency: bounded parallelism for DynamoDB writes without p-map and its ESM-only tree.
/** Like Promise.all over `items.map(fn)`, with at most `limit` calls in flight; results keep input order. */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
