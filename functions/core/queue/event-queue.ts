import type { CanonicalEvent } from '../events/canonical-event';
import { personKeyOf } from '../events/identity';

/** One event on its way to the worker: FIFO per `groupId`, deduplicated by `deduplicationId`. */
export type OutgoingMessage = { eventId: string; groupId: string; deduplicationId: string; body: string };

/** The queue between ingest and worker: SQS FIFO on AWS, the embedded queue locally. */
export interface EventQueue {
  /** Resolves once every message is durably queued; rejects with EnqueueError naming those that are not. */
  send(messages: OutgoingMessage[]): Promise<void>;
}

export class EnqueueError extends Error {
  constructor(
    readonly failedEventIds: string[],
    reason: string,
    /**
     * Those the queue refused as invalid (SQS's SenderFault), by id with the queue's reason: they fail the
     * same way on every retry, so they are not the sender's to retry.
     */
    readonly rejected: ReadonlyMap<string, string> = new Map(),
  ) {
    super(`could not enqueue ${failedEventIds.length} event(s): ${reason}`);
    this.name = 'EnqueueError';
  }

  /** Every failure is a refusal no retry can fix. */
  get permanent(): boolean {
    return this.failedEventIds.every((id) => this.rejected.has(id));
  }
}

/** Group = the person (order per person, across email changes); deduplication = the event id (the idempotency key). */
export function messageOf(event: CanonicalEvent): OutgoingMessage {
  return {
    eventId: event.id,
    groupId: personKeyOf(event.employee),
    deduplicationId: event.id,
    body: sqsSafeJson(event),
  };
}

/** The event id in a message body, when it is an object with one; the engine judges the rest. */
export function eventIdOf(body: string | undefined): string | undefined {
  try {
    const parsed = JSON.parse(body ?? '') as { id?: unknown };
    return typeof parsed.id === 'string' ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * JSON that SQS accepts as a message body. SQS refuses characters outside XML's Char range; JSON.stringify
 * escapes control characters and lone surrogates but writes U+FFFE and U+FFFF as they are, and one such
 * character in a name would make SQS refuse the message on every retry. Escaped, the value is the same.
 */
function sqsSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}
