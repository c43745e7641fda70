import type { CanonicalEvent } from '../events/canonical-event';
import { employeeKeyOf } from '../events/employee-key';
import type { EventRecord, EventStatus } from './ports';

/** The record of an event the store has not seen before; every EventStore adapter starts from this. */
export function newEventRecord(
  event: CanonicalEvent,
  source: string,
  at: string,
  status: EventStatus,
): EventRecord {
  return {
    eventId: event.id,
    employeeKey: employeeKeyOf(event.employee.email),
    type: event.type,
    occurredAt: event.occurredAt,
    status,
    attempts: 0,
    event,
    source,
    enqueued: false,
    steps: [],
    receivedAt: at,
    updatedAt: at,
  };
}
