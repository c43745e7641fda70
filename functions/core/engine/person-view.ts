import type { CanonicalEvent } from '../events/canonical-event';
import { isEmailPersonOf, personKeyOf } from '../events/identity';
import type { OrderMark, PersonDirectory, PersonState } from './ports';

/*
 * The person an event is about, before anything is written: what the store knows of them and of the email's
 * owner, whether the email is theirs to use, and whether the event comes after everything applied for them
 * (the order every adapter keeps too: isNewer).
 */

/** How far ahead of this clock a mark may lie before an offboard stops respecting it. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** What the state store knows about an event's person and its email, read before anything is decided. */
export type PersonView = {
  personKey: string;
  email: string;
  person: PersonState | undefined;
  /** Who the event's email is linked to, when not this person. */
  otherOwner: { personKey: string; state: PersonState | undefined } | undefined;
  /** The person's other accounts that are still theirs (not re-linked to someone else since). */
  otherAccounts: string[];
  /** A mark kept per email by versions before people existed; read only while the person has none. */
  legacyMark: OrderMark | undefined;
};

export async function readPersonView(people: PersonDirectory, event: CanonicalEvent): Promise<PersonView> {
  const personKey = personKeyOf(event.employee);
  const email = event.employee.email;
  const [person, owner] = await Promise.all([people.get(personKey), people.ownerOf(email)]);
  const otherOwner =
    owner !== undefined && owner !== personKey
      ? { personKey: owner, state: await people.get(owner) }
      : undefined;
  const others = (person?.accounts ?? []).filter((account) => account !== email);
  const owners = await Promise.all(others.map((account) => people.ownerOf(account)));
  return {
    personKey,
    email,
    person,
    otherOwner,
    otherAccounts: others.filter((_, i) => owners[i] === personKey),
    legacyMark: person?.mark ? undefined : await people.legacyMark(email),
  };
}

/** Whether another person holds the email now: active, and it is their current account (or they are mid-hire). */
export function heldByOther(view: PersonView): boolean {
  const other = view.otherOwner;
  if (!other || isEmailPersonOf(other.personKey, view.email)) return false;
  // Never applied anything: their first event linked the email and is still running or failed. Treat as held:
  // provisioning it for someone else could hand one account to two people.
  if (other.state?.status === undefined) return true;
  return other.state.status === 'active' && other.state.accounts.at(-1) === view.email;
}

/**
 * Whether `a` comes after `b` in a person's order: later time, or the same time and accepted later. Times
 * are one fixed UTC ISO format, so they compare as strings.
 */
export function isNewer(
  a: Pick<OrderMark, 'at' | 'sequence'>,
  b: Pick<OrderMark, 'at' | 'sequence'>,
): boolean {
  return a.at > b.at || (a.at === b.at && a.sequence > b.sequence);
}

/** The newer of two marks, either possibly absent. */
export function newestOf(a: OrderMark | undefined, b: OrderMark | undefined): OrderMark | undefined {
  if (!a) return b;
  if (!b) return a;
  return isNewer(b, a) ? b : a;
}

export type OrderVerdict = { apply: true; note?: string } | { apply: false; newest: OrderMark };

/**
 * Whether an event is newer than everything applied for its person and for the email's previous owner.
 * A redelivery of the very event that set the mark passes (an idempotent replay). An offboard ignores a mark
 * dated in the future: such a date is wrong, and must not keep a leaver's access.
 */
export function judgeOrder(
  view: PersonView,
  event: CanonicalEvent,
  order: OrderMark,
  nowMs: number,
): OrderVerdict {
  const newest = newestOf(newestOf(view.person?.mark, previousHolderMark(view)), view.legacyMark);
  if (!newest || newest.eventId === order.eventId || isNewer(order, newest)) return { apply: true };
  if (event.type === 'offboard' && Date.parse(newest.at) > nowMs + CLOCK_SKEW_MS) {
    return {
      apply: true,
      note: `applied over ${newest.eventId}, which is dated in the future (${newest.at})`,
    };
  }
  return { apply: false, newest };
}

/**
 * The email's previous holder's mark orders this event too when the account passes from them to this
 * person (the same human without an id, or a leaver rehired under a new number): an event dated before the
 * leaver's offboard must not bring the account back. Another active person's history is unrelated.
 */
function previousHolderMark(view: PersonView): OrderMark | undefined {
  const other = view.otherOwner;
  if (!other) return undefined;
  if (isEmailPersonOf(other.personKey, view.email) || other.state?.status === 'offboarded')
    return other.state?.mark;
  return undefined;
}

/** The HR employee id in a person key, for messages; the email for an email-only person. */
export function describePerson(personKey: string): string {
  if (personKey.startsWith('id:')) return `employee ${personKey.slice(3)}`;
  if (personKey.startsWith('email:')) return `the person known only as ${personKey.slice(6)}`;
  return `employee ${personKey}`;
}
