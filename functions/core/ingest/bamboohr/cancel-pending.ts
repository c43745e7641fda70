import type { EventRecord } from '../../engine/ports';
import type { ScheduleOperations } from '../../schedule/cancel-event';
import { mapWithConcurrency } from '../accept-events';
import type { BambooHrCancellation } from './webhook';

// A few people at a time: each is a query and a write per pending event, and bulk imports cancel little.
const CANCEL_CONCURRENCY = 4;

/**
 * Whether a pending event is one the cancellation is about: the same person (the store's query), from
 * BambooHR (`source`: never another system's schedule), of the type, issued no later than the change, and
 * not the change's own event.
 */
export function cancels(cancellation: BambooHrCancellation, source: string) {
  return (record: EventRecord): boolean =>
    record.source === source &&
    record.type === cancellation.type &&
    record.eventId !== cancellation.keep &&
    record.occurredAt <= cancellation.issuedUpTo;
}

/**
 * Cancels the scheduled events that a delivery's removed or moved dates make wrong, before its new events
 * are accepted, and answers the ids cancelled, in delivery order. An event already released to the queue
 * (its day came) is not cancelled: it is no longer `scheduled`.
 */
export async function cancelPending(
  cancellations: readonly BambooHrCancellation[],
  source: string,
  schedule: ScheduleOperations,
): Promise<string[]> {
  const cancelled = await mapWithConcurrency(cancellations, CANCEL_CONCURRENCY, (cancellation) =>
    schedule.cancelScheduledOf(cancellation.personKey, cancels(cancellation, source), cancellation.by),
  );
  return [...new Set(cancelled.flat())];
}
