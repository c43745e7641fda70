import type { EventRecord, EventStatus, StepRecord } from '../../engine/ports';
import type { CanonicalEvent, EventType } from '../../events/canonical-event';

/** An event_records row as SELECTed: the record's fields, JSON for the nested ones. */
export type EventRow = {
  eventId: string;
  employeeKey: string;
  type: EventType;
  occurredAt: string;
  status: EventStatus;
  attempts: number;
  event: string;
  source: string;
  enqueued: 0 | 1;
  steps: string;
  error: string | null;
  note: string | null;
  receivedAt: string;
  updatedAt: string;
  sequence: number | null;
  deadLetteredBy: string | null;
  dueAt: string | null;
};

/** The columns of a record, named as EventRow has them. */
export const EVENT_ROW_COLUMNS = `event_id AS eventId, employee_key AS employeeKey, type,
  occurred_at AS occurredAt, status, attempts, event, source, enqueued, steps, error, note,
  received_at AS receivedAt, updated_at AS updatedAt, sequence, dead_lettered_by AS deadLetteredBy,
  due_at AS dueAt`;

/** Named parameters for inserting a record without error, note or expiry (a new record has none). */
export type NewEventRow = Omit<EventRow, 'error' | 'note' | 'deadLetteredBy'>;

export const INSERT_EVENT_ROW = `INSERT INTO event_records
  (event_id, employee_key, type, occurred_at, status, attempts, event, source, enqueued, steps,
    received_at, updated_at, sequence, due_at)
  VALUES (@eventId, @employeeKey, @type, @occurredAt, @status, @attempts, @event, @source, @enqueued, @steps,
    @receivedAt, @updatedAt, @sequence, @dueAt)`;

export function newEventRowOf(record: EventRecord): NewEventRow {
  return {
    eventId: record.eventId,
    employeeKey: record.employeeKey,
    type: record.type,
    occurredAt: record.occurredAt,
    status: record.status,
    attempts: record.attempts,
    event: JSON.stringify(record.event),
    source: record.source,
    enqueued: record.enqueued ? 1 : 0,
    steps: JSON.stringify(record.steps),
    receivedAt: record.receivedAt,
    updatedAt: record.updatedAt,
    sequence: record.sequence ?? null,
    dueAt: record.dueAt ?? null,
  };
}

/** The record a row holds; error and note are left out, not undefined, when the row has none. */
export function eventRecordOf(row: EventRow): EventRecord {
  const { event, steps, enqueued, error, note, sequence, deadLetteredBy, dueAt, ...fields } = row;
  return {
    ...fields,
    ...(dueAt === null ? {} : { dueAt }),
    ...(deadLetteredBy === null ? {} : { deadLetteredBy }),
    ...(sequence === null ? {} : { sequence }),
    event: JSON.parse(event) as CanonicalEvent,
    enqueued: enqueued === 1,
    steps: JSON.parse(steps) as StepRecord[],
    ...(error === null ? {} : { error }),
    ...(note === null ? {} : { note }),
  };
}
