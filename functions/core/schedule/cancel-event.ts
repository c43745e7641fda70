import { type EventRecord, type EventStatus, type Log, type StateStore, silentLog } from '../engine/ports';
import { personKeyOf } from '../events/identity';

/*
 * Cancelling an event that has not run: DELETE /events/{id} and `hr-provisioning cancel ID` for an operator,
 * and a BambooHR date that was removed or moved (ingest/bamboohr). Only a `scheduled` or `held` event can be
 * cancelled: those are out of the queue, so the cancel is one conditional write and no call can follow.
 */

export type CancelDeps = { store: StateStore; now?: () => number; log?: Log };

export type CancelOutcome =
  | { cancelled: true; record: EventRecord }
  | { cancelled: false; reason: 'not_found' }
  /** It ran, runs, waits in the queue, or was cancelled already: nothing changed. */
  | { cancelled: false; reason: 'not_cancellable'; status: EventStatus; record: EventRecord };

/** Cancels one scheduled or held event; a held one's hold is cleared so it no longer blocks its person. */
export async function cancelEvent(eventId: string, by: string, deps: CancelDeps): Promise<CancelOutcome> {
  const at = new Date((deps.now ?? Date.now)()).toISOString();
  const result = await deps.store.events.cancel(eventId, { at, note: `cancelled by ${by}` });
  if (!result.record) return { cancelled: false, reason: 'not_found' };
  if (!result.cancelled) {
    return {
      cancelled: false,
      reason: 'not_cancellable',
      status: result.record.status,
      record: result.record,
    };
  }
  // After the status: a crash in between leaves a stale hold, which the next event of the person clears
  // (hold-check.ts treats a hold whose event is terminal as stale).
  await deps.store.guard?.unhold(personKeyOf(result.record.event.employee), eventId);
  (deps.log ?? silentLog).info('event cancelled', { eventId, by });
  return { cancelled: true, record: result.record };
}

/**
 * Cancels a person's scheduled events that `matches` accepts (a BambooHR termination date removed or moved
 * cancels the pending offboard it scheduled). Answers the ids cancelled.
 */
export async function cancelScheduledOf(
  personKey: string,
  matches: (record: EventRecord) => boolean,
  by: string,
  deps: CancelDeps,
): Promise<string[]> {
  const cancelled: string[] = [];
  const at = new Date((deps.now ?? Date.now)()).toISOString();
  for (const record of await deps.store.events.scheduledOf(personKey)) {
    if (!matches(record)) continue;
    // Scheduled events hold no guard state: one conditional write each (the ingest λ may touch event items only).
    const result = await deps.store.events.cancel(record.eventId, { at, note: `cancelled by ${by}` });
    if (result.cancelled) cancelled.push(record.eventId);
  }
  if (cancelled.length > 0) (deps.log ?? silentLog).info('scheduled events cancelled', { cancelled, by });
  return cancelled;
}

/** What the ingest app is wired with to cancel (DELETE /events/{id}, BambooHR date changes). */
export type ScheduleOperations = {
  cancel: (eventId: string, by: string) => Promise<CancelOutcome>;
  cancelScheduledOf: (
    personKey: string,
    matches: (record: EventRecord) => boolean,
    by: string,
  ) => Promise<string[]>;
};

export function scheduleOperations(deps: CancelDeps): ScheduleOperations {
  return {
    cancel: (eventId, by) => cancelEvent(eventId, by, deps),
    cancelScheduledOf: (personKey, matches, by) => cancelScheduledOf(personKey, matches, by, deps),
  };
}
