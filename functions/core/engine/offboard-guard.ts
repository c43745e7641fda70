import { createHash } from 'node:crypto';

/*
 * The offboarding guard's port: like Entra's accidental-deletion threshold, it stops a broken HR export
 * from offboarding everyone. At most `max` offboards may deactivate within a sliding window; beyond it an
 * offboard waits in status `held` for an operator, and so does every later event of the same person, so
 * that a role change or a rehire never overtakes a held offboard (hold-check.ts). The operator releases or
 * rejects held events (core/holds/holds-operator.ts).
 *
 * The holds live in the store, not in the queue: a held event's message is deleted, and a release enqueues
 * it again. The state kept is three small things, each keyed so that no personal data is stored in it:
 *   admissions  event id → when it was admitted: the sliding window; one entry per event, so a redelivery of
 *               an admitted event is not counted twice.
 *   holds       person (a digest of the person key) → their held events with acceptance sequence.
 *   decisions   event id → `released` (admitted without counting: the operator has decided) or `rejected`.
 */

/** `max` deactivating offboards per `windowMs`; `max` 0 turns the guard off. */
export type GuardLimit = { max: number; windowMs: number };

/** One held event of a person: its id and acceptance sequence (the order releases keep). */
export type HeldEntry = { eventId: string; sequence: number };

/** What an operator decided about a held event. */
export type HoldDecision = 'released' | 'rejected';

export interface OffboardGuard {
  /**
   * Whether one more offboard may deactivate at `nowMs`: true when fewer than `limit.max` other events were
   * admitted within the window, or this event was admitted within it already. Records the admission; on a
   * shared store concurrent workers never both pass the limit.
   */
  admit(eventId: string, nowMs: number, limit: GuardLimit): Promise<boolean>;
  /** Records that the person holds `entry` (idempotent). */
  hold(personKey: string, entry: HeldEntry): Promise<void>;
  /** The person's held events (those recorded and not yet cleared), in acceptance order. */
  holdsOf(personKey: string): Promise<HeldEntry[]>;
  /** Clears one held event of the person: it was released (and enqueued again), rejected, or is gone. */
  unhold(personKey: string, eventId: string): Promise<void>;
  /** Records the operator's decision; it outlives the hold, for the released event's delivery to read. */
  decide(eventId: string, decision: HoldDecision, at: string): Promise<void>;
  decisionOf(eventId: string): Promise<HoldDecision | undefined>;
}

/** The reason a rejected event ends `failed` with. */
export const REJECTED_REASON = 'rejected by an operator';

/**
 * The key the holds of a person are stored under: a digest, so the guard's state carries no email (an
 * email-only person's key is their email) and a forget leaves no personal data behind in it.
 */
export const holdKeyOf = (personKey: string): string =>
  createHash('sha256').update(personKey).digest('hex').slice(0, 32);

/** Admissions: event id → epoch ms admitted. */
export type Admissions = Record<string, number>;

/**
 * The sliding-window decision every adapter makes on the admissions it read: `next` is what to write when
 * the event is newly admitted (expired entries dropped, so the record stays at most `max` entries); no
 * `next` means nothing to write (admitted before, or refused).
 */
export function admitInWindow(
  admissions: Admissions,
  eventId: string,
  nowMs: number,
  limit: GuardLimit,
): { admitted: boolean; next?: Admissions } {
  const since = nowMs - limit.windowMs;
  const live = Object.fromEntries(Object.entries(admissions).filter(([, at]) => at > since));
  if (live[eventId] !== undefined) return { admitted: true };
  if (Object.keys(live).length >= limit.max) return { admitted: false };
  return { admitted: true, next: { ...live, [eventId]: nowMs } };
}

/** Sorted by acceptance sequence, then id: the order holds are listed and released in. */
export const inAcceptanceOrder = (a: HeldEntry, b: HeldEntry): number =>
  a.sequence - b.sequence || a.eventId.localeCompare(b.eventId);
