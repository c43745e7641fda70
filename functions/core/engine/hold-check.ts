import type { CanonicalEvent } from '../events/canonical-event';
import { personKeyOf } from '../events/identity';
import type { ConvergenceDeps, EventOutcome } from './convergence-deps';
import type { EventRun, Target } from './event-run';
import { type HeldEntry, REJECTED_REASON } from './offboard-guard';
import { describePerson } from './person-view';
import { isTerminal, silentLog } from './ports';

/*
 * The engine's side of the offboarding guard (offboard-guard.ts): before an event converges, whether it must
 * wait behind a held event of its person (gateOnHolds); before an offboard deactivates, whether the guard's
 * window has room for it (admitOffboard). Both answer before any TrueFoundry write.
 */

/** Thrown by admitOffboard: convergeEvent holds the event instead of classifying a failure. */
export class HoldForOperator extends Error {}

export type HoldGate = { proceed: true; released: boolean } | { proceed: false; outcome: EventOutcome };

const HOW_TO_DECIDE = 'an operator releases or rejects it (hr-provisioning holds)';

/**
 * Whether the event may converge now. A rejected event ends `failed` with no call (a redelivery of its old
 * message included). An event of a person with a held event waits behind it, whatever its type: a role
 * change or a rehire must not overtake a held offboard, and an offboard behind one must not be lost. A
 * released event waits only behind an earlier held event of its person that was not released.
 */
export async function gateOnHolds(
  event: CanonicalEvent,
  sequence: number,
  deps: ConvergenceDeps,
  at: () => string,
): Promise<HoldGate> {
  const guard = deps.store.guard;
  if (!guard) return { proceed: true, released: false };
  const personKey = personKeyOf(event.employee);
  const decision = await guard.decisionOf(event.id);
  if (decision === 'rejected') {
    await deps.store.events.finish(event.id, { status: 'failed', at: at(), error: REJECTED_REASON });
    await guard.unhold(personKey, event.id);
    return { proceed: false, outcome: { status: 'failed', reason: REJECTED_REASON } };
  }
  const released = decision === 'released';
  const blocking: HeldEntry[] = [];
  for (const held of await guard.holdsOf(personKey)) {
    if (held.eventId === event.id) {
      // Its own hold: a redelivery of a held event's message (the delete was lost) stays held.
      if (!released) blocking.push(held);
      continue;
    }
    const record = await deps.store.events.get(held.eventId);
    if (!record || isTerminal(record.status)) {
      // Forgotten, or finished some other way: a stale hold, which must not block the person for good.
      await guard.unhold(personKey, held.eventId);
      continue;
    }
    if (released && (held.sequence > sequence || (await guard.decisionOf(held.eventId)) === 'released'))
      continue;
    blocking.push(held);
  }
  if (blocking.length === 0) {
    // A release that stopped between enqueueing and clearing the hold leaves it: this delivery clears it.
    if (released) await guard.unhold(personKey, event.id);
    return { proceed: true, released };
  }
  const first = blocking[0];
  const reason =
    first === undefined || first.eventId === event.id
      ? `held by the offboarding guard until ${HOW_TO_DECIDE}`
      : `held behind ${first.eventId}, a held event of ${describePerson(personKey)}: their events keep their order until ${HOW_TO_DECIDE}`;
  return { proceed: false, outcome: await holdEvent(event, sequence, reason, deps, at) };
}

/**
 * Asks the guard before an offboard deactivates anything: one that would deactivate no account (none is
 * active) is not counted, and one an operator released is admitted without counting. Refused: throws
 * HoldForOperator, before any write.
 */
export async function admitOffboard(
  event: CanonicalEvent,
  targets: Target[],
  run: EventRun,
  deps: ConvergenceDeps,
  released: boolean,
): Promise<void> {
  const limit = deps.config.offboardGuard;
  const guard = deps.store.guard;
  if (!guard || !limit || limit.max === 0 || released) return;
  if (!(await run.wouldDeactivate(targets))) return;
  if (await guard.admit(event.id, (deps.now ?? Date.now)(), limit)) return;
  const minutes = Math.round(limit.windowMs / 60_000);
  throw new HoldForOperator(
    `held by the offboarding guard: ${limit.max} deactivations within ${minutes} minutes reached its limit; waiting until ${HOW_TO_DECIDE}`,
  );
}

/** The event waits in `held`, recorded as its person's hold; its message is done (the hold is in the store). */
export async function holdEvent(
  event: CanonicalEvent,
  sequence: number,
  reason: string,
  deps: ConvergenceDeps,
  at: () => string,
): Promise<EventOutcome> {
  const personKey = personKeyOf(event.employee);
  // The person's hold first: a crash before the status leaves the message undeleted, and its redelivery
  // finds the hold and holds the event again.
  await deps.store.guard?.hold(personKey, { eventId: event.id, sequence });
  await deps.store.events.hold(event.id, { at: at(), reason });
  (deps.log ?? silentLog).warn('event held', { eventId: event.id, reason });
  return { status: 'held', reason };
}
