import { type CanonicalEvent, effectiveTimeOf } from '../events/canonical-event';
import { isEmailPersonOf } from '../events/identity';
import {
  InvalidUserRequestError,
  TrueFoundryAbortedError,
  TrueFoundryError,
  TrueFoundryForbiddenError,
} from '../truefoundry/errors';
import type { ConvergenceDeps, EventOutcome } from './convergence-deps';
import { desiredStateOf } from './convergence-plan';
import { withDirectoryPages } from './directory-pages';
import {
  type Deadline,
  EventRun,
  RetryLater,
  type Target,
  WaitingForUnknownCreate,
  waitingDeliveries,
} from './event-run';
import { admitOffboard, gateOnHolds, HoldForOperator, holdEvent } from './hold-check';
import { describePerson, heldByOther, judgeOrder, type PersonView, readPersonView } from './person-view';
import { policyRefusal } from './policy-guard';
import { type OrderMark, type PersonStatus, type StateStore, silentLog } from './ports';
import { retryDelayForAttempt } from './retry-delay';

export type { ConvergenceConfig, ConvergenceDeps, EventOutcome } from './convergence-deps';

/**
 * What one delivery brings besides the event: the time it has, and the attempt budget, so that an event
 * whose earlier attempts all stopped half-way (the worker crashed or timed out in them) is given up on.
 */
export type Delivery = { deadline?: Deadline; maxAttempts?: number };

/** A failure no retry can fix, found before any call (an email that belongs to someone else). */
class PermanentFailure extends Error {}

/**
 * Converges TrueFoundry to what one event asks for its person, exactly once in effect: orders the event
 * against what was applied for the person, checks that its email is theirs to use, converges each of the
 * person's accounts, and records success and the person's new mark as one transition.
 */
export async function convergeEvent(
  event: CanonicalEvent,
  deps: ConvergenceDeps,
  delivery: Delivery = {},
): Promise<EventOutcome> {
  const now = deps.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const { events } = deps.store;

  const record = await events.startAttempt(event, iso());
  if (record.status === 'succeeded' || record.status === 'superseded') {
    return record.status === 'succeeded'
      ? { status: 'succeeded', replayed: true, ...(record.note ? { note: record.note } : {}) }
      : { status: 'superseded', replayed: true, note: record.note ?? 'superseded' };
  }
  // Cancelled while its message was on the way (a scheduled event's release raced the cancel): no call.
  if (record.status === 'cancelled') return { status: 'cancelled', note: record.note ?? 'cancelled' };
  // A person's events apply in the order of their effective time, then acceptance (DESIGN.md).
  const order: OrderMark = {
    at: effectiveTimeOf(event),
    sequence: record.sequence ?? 0,
    eventId: event.id,
  };
  // The budget counts deliveries that tried something: those that only waited for an unknown create do not.
  const spent = record.attempts - waitingDeliveries(record.steps);
  if (delivery.maxAttempts !== undefined && spent > delivery.maxAttempts) {
    const reason = `gave up: ${record.attempts - 1} attempts started and none finished (the worker crashed or timed out in each); last error: ${record.error ?? 'none recorded'}`;
    await events.finish(event.id, { status: 'failed', at: iso(), error: reason });
    return { status: 'failed', reason };
  }

  try {
    // Before anything is read or written: a held event of the person holds this one back (hold-check.ts).
    const gate = await gateOnHolds(event, order.sequence, deps, iso);
    if (!gate.proceed) return gate.outcome;
    const view = await readPersonView(deps.store.people, event);
    const verdict = judgeOrder(view, event, order, now());
    if (!verdict.apply) {
      const note = `older than ${verdict.newest.eventId} (${verdict.newest.at}, accepted #${verdict.newest.sequence}), the newest event applied for ${describePerson(view.personKey)}`;
      await events.finish(event.id, { status: 'superseded', at: iso(), note });
      return { status: 'superseded', note };
    }
    // When many events wait, a page of the directory may stand in for the first read (directory-pages.ts).
    const paged = withDirectoryPages(deps, event, record.attempts);
    const run = new EventRun(event, record.attempts, paged, now, delivery.deadline);
    const converged = await convergePerson(event, view, run, deps, gate.released);
    const notes = [verdict.note, converged.note].filter((n): n is string => n !== undefined);
    const note = notes.length > 0 ? notes.join('; ') : undefined;
    const result = await deps.store.recordSuccess(
      event.id,
      { at: iso(), ...(note ? { note } : {}) },
      {
        personKey: view.personKey,
        mark: order,
        status: converged.status,
        current: converged.current,
      },
    );
    if (!result.applied) {
      // Only events of two people sharing an email can race so; the newer one keeps the order.
      const raced = `${note ? `${note}; ` : ''}applied while ${result.newest.eventId}, which is newer, was applied too`;
      await events.finish(event.id, { status: 'succeeded', at: iso(), note: raced });
      return { status: 'succeeded', note: raced };
    }
    return { status: 'succeeded', ...(note ? { note } : {}) };
  } catch (error) {
    if (error instanceof HoldForOperator) return holdEvent(event, order.sequence, error.message, deps, iso);
    const outcome = classify(
      error,
      error instanceof WaitingForUnknownCreate ? spent - 1 : spent,
      delivery.deadline,
    );
    if (outcome.status === 'failed') {
      await events.finish(event.id, { status: 'failed', at: iso(), error: outcome.reason });
    } else {
      await events.requeue(event.id, { at: iso(), error: outcome.reason });
    }
    (deps.log ?? silentLog)[outcome.status === 'failed' ? 'error' : 'warn'](`event ${outcome.status}`, {
      eventId: event.id,
      reason: outcome.reason,
    });
    return outcome;
  }
}

/**
 * The person half: which accounts the event touches, in which order. A present event provisions its own
 * email first and only then deactivates the person's previous accounts, so an email change never leaves
 * the person without access; an offboard deactivates every account the person holds.
 */
async function convergePerson(
  event: CanonicalEvent,
  view: PersonView,
  run: EventRun,
  deps: ConvergenceDeps,
  released: boolean,
): Promise<{ note?: string; current: string; status: PersonStatus }> {
  const { email, personKey } = view;
  const { people } = deps.store;
  const options = { deleteAfterOffboard: deps.config.deleteAfterOffboard };
  if (heldByOther(view)) {
    const owner = view.otherOwner?.personKey ?? '';
    throw new PermanentFailure(
      `${email} belongs to ${describePerson(owner)}, who is active; this event is for ${describePerson(personKey)}. Offboard ${describePerson(owner)} first, or correct the email`,
    );
  }
  const own: Target = {
    email,
    desired: desiredStateOf(event, deps.config.roleMapping, options),
    primary: true,
  };
  // An offboard may delete what it deactivates (deleteAfterOffboard); an email change only deactivates.
  const deleteAfterOffboard = event.type === 'offboard' && options.deleteAfterOffboard;
  const previous = view.otherAccounts.map(
    (account): Target => ({
      email: account,
      desired: { kind: 'offboarded', email: account, deleteAfterOffboard },
      primary: false,
    }),
  );
  // Before anything is linked or written: a protected account or a role above the ceiling fails the event.
  const refused = policyRefusal(event, [own, ...previous], deps.config.policy, deps.config.roleMapping);
  if (refused) throw new PermanentFailure(refused);
  if (event.type === 'offboard') {
    // The guard's window before any write: beyond its limit the offboard is held (no link, no call).
    await admitOffboard(event, [own, ...previous], run, deps, released);
    // The email is recorded as the person's unless it passed to someone else (a leaver's old address).
    const owner = view.otherOwner?.personKey;
    if (owner === undefined || isEmailPersonOf(owner, email)) await link(people, personKey, email, owner);
    const note = await run.converge([own, ...previous]);
    return {
      ...(note ? { note } : {}),
      current: view.person?.accounts.at(-1) ?? email,
      status: 'offboarded',
    };
  }
  if (event.type === 'role_change' && view.person?.status === 'offboarded') {
    // A role change never undoes a lockout, not even by creating a new account under a new email.
    return {
      note: `${describePerson(personKey)} is offboarded: only a hire brings them back, a role change does not`,
      current: view.person.accounts.at(-1) ?? email,
      status: 'offboarded',
    };
  }
  await link(people, personKey, email, view.otherOwner?.personKey);
  const note = await run.converge([own, ...previous]);
  return { ...(note ? { note } : {}), current: email, status: 'active' };
}

async function link(
  people: StateStore['people'],
  personKey: string,
  email: string,
  expectedOwner: string | undefined,
): Promise<void> {
  const linked = await people.link(personKey, email, expectedOwner);
  if (!linked.linked) {
    // Another person's event took the email between the read and this write: decide again on the next delivery.
    throw new RetryLater(
      `${email} was linked to ${linked.owner ?? 'nobody'} meanwhile; deciding again`,
      1_000,
    );
  }
}

/** Transient (429, 5xx, network, timeout, storage hiccups) → retry; the rest is permanent. */
function classify(
  error: unknown,
  attempt: number,
  deadline: Deadline | undefined,
): Extract<EventOutcome, { status: 'failed' | 'retry' }> {
  const retry = (reason: string, retryAfterMs: number) =>
    ({ status: 'retry', reason, retryAfterMs, attempts: attempt }) as const;
  if (error instanceof RetryLater) return retry(error.message, error.retryAfterMs);
  if (deadline?.signal.aborted && error instanceof TrueFoundryAbortedError) {
    // Our own deadline, not the server: what was in flight is retried by the next delivery.
    return retry(`the invocation ran out of time: ${error.message}`, retryDelayForAttempt(attempt));
  }
  if (error instanceof PermanentFailure) return { status: 'failed', reason: error.message };
  if (error instanceof TrueFoundryForbiddenError && error.path.endsWith('/invite')) {
    return {
      status: 'failed',
      reason: `${error.message}. Invite works only where TrueFoundry manages the tenant's login; use the register provision mode`,
    };
  }
  if (error instanceof InvalidUserRequestError) return { status: 'failed', reason: error.message };
  if (error instanceof TrueFoundryError) {
    return error.isTransient()
      ? retry(error.message, retryDelayForAttempt(attempt, error.retryAfterMs))
      : { status: 'failed', reason: error.message };
  }
  // Anything else (a storage throttle, a bug) is not known to be permanent: let the queue's budget decide.
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return retry(reason, retryDelayForAttempt(attempt));
}
