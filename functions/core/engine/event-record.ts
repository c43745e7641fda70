import type { CanonicalEvent } from '../events/canonical-event';
import { personKeyOf } from '../events/person-key';
import type { EventRecord, EventStatus } from './ports';

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
