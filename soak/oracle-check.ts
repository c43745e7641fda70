import type { CanonicalEvent } from '../functions/core/events/canonical-event';
import type { CallRecord, SandboxUser, SentEmail } from '../sandbox';
import { PeopleOracle } from '../test/engine/people-oracle';
import type { LoadPlan } from './load';
import type { DeadLetter, EventView } from './observe';
import { TERMINAL_STATUSES } from './observe';

/*
 * The pass criteria of the soak, each a function from what was observed to the violations found. The
 * oracle (test/engine/people-oracle.ts) is the contract of DESIGN.md's semantics, applied to the events in
 * the order the pipeline applies them: per person, by acceptance sequence (one FIFO group per person); the
 * load keeps cross-person events (shared addresses) apart in a final phase, so the order between people
 * does not change the outcome.
 */

export type Violation = { kind: string; detail: string };

/** Every distinct event of the plan, in the order first sent. */
export function uniqueEvents(plan: LoadPlan): CanonicalEvent[] {
  const seen = new Map<string, CanonicalEvent>();
  for (const chunk of [...plan.main, ...plan.final]) {
    for (const event of chunk.events) if (!seen.has(event.id)) seen.set(event.id, event);
  }
  return [...seen.values()];
}

/** Every accepted id ended, and each ended as the oracle says; returns the oracle for the state check. */
export function checkStatuses(
  events: readonly CanonicalEvent[],
  views: ReadonlyMap<string, EventView>,
): { violations: Violation[]; oracle: PeopleOracle } {
  const violations: Violation[] = [];
  const ordered = events.map((event, index) => {
    const view = views.get(event.id);
    if (view === undefined || !TERMINAL_STATUSES.has(view.status)) {
      violations.push({ kind: 'not terminal', detail: `${event.id}: ${view?.status ?? 'never read'}` });
    } else if (view.sequence === undefined) {
      violations.push({ kind: 'no sequence', detail: `${event.id}: GET /events/{id} shows no sequence` });
    }
    // Without a sequence, the send order (the acceptance order of a sender that waits for each answer).
    return { event, sequence: view?.sequence ?? index + 1, view };
  });
  ordered.sort((a, b) => a.sequence - b.sequence);
  const oracle = new PeopleOracle();
  for (const { event, sequence, view } of ordered) {
    const expected = oracle.apply({ event, sequence });
    if (view === undefined || !TERMINAL_STATUSES.has(view.status) || view.status === expected) continue;
    const why = view.error ?? view.note;
    violations.push({
      kind: 'status',
      detail: `${event.id} (${event.type} ${event.employee.id} ${event.employee.email} at ${event.occurredAt}, sequence ${sequence}): expected ${expected}, got ${view.status}${why ? `: ${why}` : ''}${history(view)}`,
    });
  }
  return { violations, oracle };
}

/** The event's steps, one line each, for a violation worth reading the history of. */
const history = (view: EventView): string =>
  (view.steps ?? [])
    .map(
      (s) =>
        `\n      attempt ${s.attempt} ${s.startedAt.slice(11, 23)} ${s.action} ${s.email ?? ''} ${s.outcome}`,
    )
    .join('');

const sorted = (roles: readonly string[] | undefined) => [...(roles ?? [])].sort().join(',');

/**
 * What happened to one account, for a directory violation: the events that carry its address or made a step
 * on it, in acceptance order, each with its steps on that address.
 */
export function accountHistory(
  events: readonly CanonicalEvent[],
  views: ReadonlyMap<string, EventView>,
): (email: string) => string {
  return (email) =>
    events
      .map((event) => ({ event, view: views.get(event.id) }))
      .filter(
        ({ event, view }) =>
          event.employee.email === email || view?.steps?.some((step) => step.email === email),
      )
      .sort((a, b) => (a.view?.sequence ?? 0) - (b.view?.sequence ?? 0))
      .map(({ event, view }) => {
        const steps = (view?.steps ?? [])
          .filter((step) => step.email === email)
          .map((step) => `${step.action}:${step.outcome}@${step.attempt}`)
          .join(' ');
        return `\n      #${view?.sequence} ${event.id} ${event.type} ${event.employee.id} ${event.employee.email} at ${event.occurredAt} roles [${event.roles ?? ''}]: ${view?.status} ${steps}`;
      })
      .join('');
}

/** TrueFoundry (the sandbox's directory) equals the oracle's accounts: existence, active, tenant roles. */
export function checkDirectory(
  oracle: PeopleOracle,
  users: readonly SandboxUser[],
  historyOf: (email: string) => string = () => '',
): Violation[] {
  const violations: Violation[] = [];
  const byEmail = new Map(users.map((user) => [user.email, user]));
  for (const [email, account] of oracle.accounts()) {
    if (!account.exists) continue;
    const user = byEmail.get(email);
    byEmail.delete(email);
    if (user === undefined) {
      violations.push({
        kind: 'directory',
        detail: `${email}: expected to exist, TrueFoundry has no such user`,
      });
      continue;
    }
    const problems: string[] = [];
    if (user.active !== account.active) problems.push(`active ${user.active}, expected ${account.active}`);
    if (sorted(user.roles) !== sorted(account.roles))
      problems.push(`roles [${sorted(user.roles)}], expected [${sorted(account.roles)}]`);
    if (problems.length > 0)
      violations.push({ kind: 'directory', detail: `${email}: ${problems.join('; ')}${historyOf(email)}` });
  }
  for (const email of byEmail.keys()) {
    violations.push({
      kind: 'directory',
      detail: `${email}: in TrueFoundry, but no event should have created it${historyOf(email)}`,
    });
  }
  return violations;
}

/** Nobody created or invited twice: the sandbox's own counts of creates and invitation e-mails. */
export function checkOnce(calls: readonly CallRecord[], emails: readonly SentEmail[]): Violation[] {
  const count = (keys: string[]) => {
    const counts = new Map<string, number>();
    for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
    return [...counts].filter(([, n]) => n > 1);
  };
  const created = calls
    .filter((call) => call.effect === 'created')
    .map((call) => String((call.body as { email?: unknown } | undefined)?.email ?? '').toLowerCase());
  return [
    ...count(created).map(([email, n]) => ({
      kind: 'created twice',
      detail: `${email}: created ${n} times`,
    })),
    ...count(emails.map((mail) => mail.to.toLowerCase())).map(([email, n]) => ({
      kind: 'invited twice',
      detail: `${email}: ${n} invitation e-mails`,
    })),
  ];
}

/**
 * Every failed event is a dead letter with its reason, and every dead letter is a failed event; the CLI and
 * GET /dlq agree; a planned conflict's reason names both employee ids.
 */
export function checkDeadLetters(
  views: ReadonlyMap<string, EventView>,
  byCli: readonly DeadLetter[] | string,
  byApi: readonly DeadLetter[] | undefined,
  expectedConflicts: ReadonlyMap<string, string>,
  events: readonly CanonicalEvent[],
): Violation[] {
  if (typeof byCli === 'string') return [{ kind: 'dead letters', detail: byCli }];
  const violations: Violation[] = [];
  const letters = new Map(byCli.map((letter) => [letter.eventId, letter]));
  const failed = [...views.values()].filter((view) => view.status === 'failed');
  for (const view of failed) {
    const letter = letters.get(view.id);
    if (letter === undefined)
      violations.push({ kind: 'dead letters', detail: `${view.id} failed but is no dead letter` });
    else if (!letter.reason?.trim())
      violations.push({ kind: 'dead letters', detail: `${view.id}: a dead letter without a reason` });
  }
  for (const letter of byCli) {
    if (views.get(letter.eventId)?.status !== 'failed')
      violations.push({
        kind: 'dead letters',
        detail: `${letter.eventId} is a dead letter but ${views.get(letter.eventId)?.status ?? 'not an event of the load'}`,
      });
  }
  if (byApi !== undefined) {
    const cliIds = [...letters.keys()].sort().join(',');
    const apiIds = byApi
      .map((letter) => letter.eventId)
      .sort()
      .join(',');
    if (cliIds !== apiIds)
      violations.push({
        kind: 'dead letters',
        detail: 'hr-provisioning dlq list and GET /dlq list different letters',
      });
  }
  const employeeOf = new Map(events.map((event) => [event.id, event.employee.id]));
  for (const [id, holder] of expectedConflicts) {
    const reason = letters.get(id)?.reason ?? '';
    const own = employeeOf.get(id) ?? '';
    if (letters.has(id) && !(reason.includes(holder) && reason.includes(own)))
      violations.push({
        kind: 'dead letters',
        detail: `${id}: the reason does not name ${own} and ${holder}: ${reason}`,
      });
  }
  return violations;
}

/** Any configured secret in any captured text; the report names the secret and where, never its value. */
export function checkSecrets(
  needles: readonly { name: string; value: string }[],
  haystacks: readonly { where: string; text: string }[],
): Violation[] {
  const violations: Violation[] = [];
  for (const { where, text } of haystacks) {
    for (const { name, value } of needles) {
      let count = 0;
      for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + 1)) count++;
      if (count > 0)
        violations.push({ kind: 'secret', detail: `${name} appears ${count} time(s) in ${where}` });
    }
  }
  return violations;
}
