import type { EventRecord, StepRecord } from '../../engine/ports';
import type { TableKey } from './table-schema';

/*
 * The event item: how an EventRecord is written to the state table and read back. What grows in it is
 * bounded as engine/event-record.ts says, the same for every adapter.
 */

/** Steps ever appended, dropped ones included: the version the steps cap rewrites the list against. */
export const STEPS_APPENDED = 'stepsAppended';

/** What an event item holds besides the record. */
type EventItemExtras = TableKey & {
  expiresAt?: number;
  stepsAppended?: number;
  dueQueue?: string;
  dueKey?: string;
};

/** The record in an event item; the item was written by this adapter, in this shape. */
export function eventRecordOf(item: Record<string, unknown>): EventRecord {
  const {
    pk: _pk,
    sk: _sk,
    expiresAt: _expiresAt,
    stepsAppended: _stepsAppended,
    dueQueue: _dueQueue,
    dueKey: _dueKey,
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

/**
 * SET and REMOVE clauses with a placeholder for every attribute name and value: `status`, `source`, `type`
 * and others are DynamoDB reserved words, and a placeholder for all of them is simpler than knowing which.
 */
export function updateExpression(set: Record<string, unknown>, remove: readonly string[] = []) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const assignments = Object.entries(set).map(([attribute, value]) => {
    names[`#${attribute}`] = attribute;
    values[`:${attribute}`] = value;
    return `#${attribute} = :${attribute}`;
  });
  for (const attribute of remove) names[`#${attribute}`] = attribute;
  const clauses = [
    ...(assignments.length > 0 ? [`SET ${assignments.join(', ')}`] : []),
    ...(remove.length > 0 ? [`REMOVE ${remove.map((a) => `#${a}`).join(', ')}`] : []),
  ];
  return {
    UpdateExpression: clauses.join(' '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}
