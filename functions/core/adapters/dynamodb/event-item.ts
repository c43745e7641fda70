import type { EventRecord, StepRecord } from '../../engine/ports';
import type { TableKey } from './table-schema';

/*
 * An item stays under DynamoDB's 400 KB limit only if what grows in it is bounded: the step history keeps the
 * newest MAX_STORED_STEPS (a delivery runs a handful, so only an event retried for days reaches it), and free
 * text from the outside world (TrueFoundry error bodies) is cut short. A write past the limit would fail on
 * every retry and leave the event open for good.
 */
export const MAX_STORED_STEPS = 100;
export const MAX_STEP_ERROR_LENGTH = 2_000;
export const MAX_EVENT_TEXT_LENGTH = 8_000;

/** Steps ever appended, dropped ones included: the version the steps cap rewrites the list against. */
export const STEPS_APPENDED = 'stepsAppended';

/** What an event item holds besides the record. */
type EventItemExtras = TableKey & { expiresAt?: number; stepsAppended?: number };

/** The record in an event item; the item was written by this adapter, in this shape. */
export function eventRecordOf(item: Record<string, unknown>): EventRecord {
  const {
    pk: _pk,
    sk: _sk,
    expiresAt: _expiresAt,
    stepsAppended: _stepsAppended,
    ...record
  } = item as EventRecord & EventItemExtras;
  return record;
}

/** The step list of an event item and the append counter it was read at. */
export function stepHistoryOf(item: Record<string, unknown>): { steps: StepRecord[]; stepsAppended: number } {
  const { steps, stepsAppended } = item as EventRecord & EventItemExtras;
  // Every append counts, so an item whose list reached the cap always has a counter.
  return { steps, stepsAppended: stepsAppended ?? 0 };
}

/**
 * A deep copy without `undefined` members, which DynamoDB cannot store: the data is JSON (a canonical
 * event, a step), so a JSON round trip is exact, and the adapter works whatever marshall options the
 * caller's document client has.
 */
export function storable<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function boundedStep(step: StepRecord): StepRecord {
  const stored = storable(step);
  if (stored.error !== undefined) stored.error = bounded(stored.error, MAX_STEP_ERROR_LENGTH);
  return stored;
}

export function bounded(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}
