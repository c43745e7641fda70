import type { CanonicalEvent } from '../events/canonical-event';
import { personKeyOf } from '../events/identity';
import type { EventRecord, EventStatus, StepRecord } from './ports';

/*
 * The event record as every EventStore adapter keeps it: how it starts, and how far what grows in it may grow.
 *
 * A record stays under DynamoDB's 400 KB item limit only if what grows in it is bounded: the step history
 * keeps the newest MAX_STORED_STEPS (a delivery runs a handful, so only an event retried for days reaches
 * it), and free text from the outside world (TrueFoundry error bodies) is cut short. A write past the limit
 * would fail on every retry and leave the event open for good. The SQLite adapter keeps the same bounds, so a
 * record reads the same whichever store kept it.
 */
export const MAX_STORED_STEPS = 100;
export const MAX_STEP_ERROR_LENGTH = 2_000;
export const MAX_EVENT_TEXT_LENGTH = 8_000;

/** The record of an event the store has not seen before; every EventStore adapter starts from this. */
export function newEventRecord(
  event: CanonicalEvent,
  source: string,
  at: string,
  status: EventStatus,
  sequence?: number,
): EventRecord {
  return {
    eventId: event.id,
    employeeKey: personKeyOf(event.employee),
    type: event.type,
    occurredAt: event.occurredAt,
    status,
    attempts: 0,
    ...(sequence === undefined ? {} : { sequence }),
    event,
    source,
    enqueued: false,
    steps: [],
    receivedAt: at,
    updatedAt: at,
  };
}

/** A step as it is stored: its error cut to MAX_STEP_ERROR_LENGTH. */
export function boundedStep(step: StepRecord): StepRecord {
  return step.error === undefined ? step : { ...step, error: bounded(step.error, MAX_STEP_ERROR_LENGTH) };
}

/** The text cut to `maxLength` characters, an ellipsis marking the cut. */
export function bounded(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}
