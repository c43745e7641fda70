import type { EventRecord, EventStore } from '../engine/ports';
import type { CanonicalEvent } from '../events/canonical-event';
import { mapWithConcurrency } from './map-with-concurrency';

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
