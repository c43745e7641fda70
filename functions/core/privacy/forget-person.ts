import type { ForgetAudit, ForgetSubject, Log, PersonDirectory, StateStore } from '../engine/ports';
import { silentLog } from '../engine/ports';
import { personKeyOf } from '../events/identity';
import { shortHash } from './redact';

/** Whom an operator asks to forget: an HR employee id, or an email. */
export type ForgetTarget = { employeeId: string } | { email: string };

/** A queued or dead-lettered message, as far as telling whose it is goes. */
export type QueuedMessage = { eventId: string; groupId: string; body: string };

/**
 * The local runtime's queue, which can take a person's messages off before they run. On AWS the queue is
 * SQS, where a message cannot be picked out: there the store refuses while the person has events queued.
 */
export interface PersonQueue {
  /**
   * Deletes every queued message and dead letter `covers` accepts, all at once; deletes nothing and names
   * the events when one of those messages is being processed right now.
   */
  forget(
    covers: (message: QueuedMessage) => boolean,
  ): { queued: number; deadLetters: number } | { inFlight: string[] };
}

/**
 * A forget's outcome: the audit line, and whom it covered, so that a caller with a queue of its own (the
 * CLI and the SQS dead-letter queue) can delete that person's messages by the same rule (coversMessage).
 */
export type ForgetReport = { forgotten: ForgetAudit; subject: ForgetSubject } | { busy: string[] };

export type ForgetDeps = {
  store: StateStore;
  /** The local runtime's queue; absent on AWS. */
  queue?: PersonQueue;
  log?: Log;
  now?: () => number;
};

/**
 * Forgets a person: their queued messages and dead letters (local runtime), then their events, ledger
 * steps, person records and email links, and leaves one audit line that names them only by a digest.
 * `by` says who asked (how they were authenticated).
 */
export async function forgetPerson(
  target: ForgetTarget,
  by: string,
  deps: ForgetDeps,
): Promise<ForgetReport> {
  const subject = await resolveForgetSubject(target, deps.store.people);
  let queued = 0;
  let deadLetters = 0;
  if (deps.queue) {
    // First, so that no delivery of theirs can start (and write them back) while the store is purged.
    const taken = deps.queue.forget((message) => coversMessage(subject, message));
    if ('inFlight' in taken) return { busy: taken.inFlight };
    ({ queued, deadLetters } = taken);
  }
  const at = new Date((deps.now ?? Date.now)()).toISOString();
  const outcome = await deps.store.forget(subject, {
    refuseWhileBusy: deps.queue === undefined,
    audit: { person: targetDigest(target), at, by, queued, deadLetters },
  });
  if ('busy' in outcome) return outcome;
  (deps.log ?? silentLog).info(auditLine(outcome.forgotten), { ...outcome.forgotten });
  return { forgotten: outcome.forgotten, subject };
}

/** `forgot person <digest> (n events, m dead letters) at <time> by <operator>`. */
export function auditLine(audit: ForgetAudit): string {
  return `forgot person ${audit.person} (${audit.events} events, ${audit.deadLetters} dead letters) at ${audit.at} by ${audit.by}`;
}

/** The digest the audit names a target by: the same target always gives the same digest. */
export function targetDigest(target: ForgetTarget): string {
  return shortHash(
    'employeeId' in target
      ? `employee:${normalisedId(target.employeeId)}`
      : `email:${normalisedEmail(target.email)}`,
  );
}

/**
 * The person named and everything keyed by them: named by employee id, that person; named by email, the
 * person holding it and the person known only by it. Their accounts' email-only persons are the same human
 * (identity.ts), so they go too.
 */
export async function resolveForgetSubject(
  target: ForgetTarget,
  people: PersonDirectory,
): Promise<ForgetSubject> {
  const email = 'email' in target ? normalisedEmail(target.email) : undefined;
  const named = new Set<string>();
  if ('employeeId' in target) named.add(personKeyOf({ id: normalisedId(target.employeeId), email: '' }));
  if (email !== undefined) {
    named.add(emailOnlyKey(email));
    const owner = await people.ownerOf(email);
    if (owner !== undefined) named.add(owner);
  }
  const emails = new Set<string>(email === undefined ? [] : [email]);
  for (const key of named) for (const account of (await people.get(key))?.accounts ?? []) emails.add(account);
  const personKeys = new Set(named);
  for (const account of emails) personKeys.add(emailOnlyKey(account));
  return {
    personKeys: [...personKeys],
    emails: [...emails],
    ...(email === undefined ? {} : { email }),
  };
}

/** Whether an event (its person key and email) is one `forget` erases. */
export function coversEvent(subject: ForgetSubject, event: { employeeKey: string; email?: string }): boolean {
  return (
    subject.personKeys.includes(event.employeeKey) ||
    (subject.email !== undefined && event.email === subject.email)
  );
}

/** Whether a queued message (the canonical event JSON, grouped by person key) is the person's. */
export function coversMessage(subject: ForgetSubject, message: QueuedMessage): boolean {
  if (subject.personKeys.includes(message.groupId)) return true;
  const employee = employeeOf(message.body);
  if (!employee) return false;
  return coversEvent(subject, { employeeKey: personKeyOf(employee), email: employee.email });
}

function employeeOf(body: string): { id: string; email: string } | undefined {
  try {
    const employee = (JSON.parse(body) as { employee?: { id?: unknown; email?: unknown } }).employee;
    return typeof employee?.id === 'string' && typeof employee.email === 'string'
      ? { id: employee.id, email: employee.email }
      : undefined;
  } catch {
    return undefined;
  }
}

// As canonical-event.ts normalises them, so a target matches what the store holds.
const normalisedId = (id: string) => id.normalize('NFC').trim();
const normalisedEmail = (email: string) => email.normalize('NFC').trim().toLowerCase();
const emailOnlyKey = (email: string) => personKeyOf({ id: email, email });
