import { createHash } from 'node:crypto';
import type { Log } from '../engine/ports';
import { type CanonicalEvent, type EventType, parseCanonicalEvent } from '../events/canonical-event';
import { describeIssue } from '../events/validation-issues';
import { type AcceptDeps, acceptEvents, idConflictCheck } from '../ingest/accept-events';
import { policyRefusalsOf, reasonOf } from '../ingest/policy-refusals';
import { DERIVED_ID_PREFIXES } from '../ingest/sender-rules';
import type { Policy } from '../policy/policy';
import type { Comparison } from './compare';
import { RECONCILE_SOURCE } from './roster';

/*
 * `?apply=true`: the events that converge TrueFoundry to the roster, submitted as any sender's events are
 * (acceptEvents, after the policy), so the worker applies them in order with everything else, offboards
 * included under the offboarding guard. A hire for each missing person (a hire reactivates), a role change
 * for each drifted one, an offboard for each orphan.
 */

/** An event reconciliation submitted. */
export type AppliedEvent = { id: string; type: EventType; email: string };
/** An event it would have submitted and did not: the policy refused it, or its id was taken. */
export type RefusedEvent = AppliedEvent & { reason: string };

export type ApplyDeps = AcceptDeps & {
  policy?: Policy;
  /**
   * The person key that holds an account (the state store's people), so an orphan's offboard is the
   * offboard of its person (`id:E1` → employee E1), which deactivates every account they hold. Without it,
   * or for an account nobody holds, the offboard is keyed by the email.
   */
  ownerOf?: (email: string) => Promise<string | undefined>;
  log?: Log;
};

/**
 * The run's id: when it ran (to the second) and a digest of the roster. The same roster applied twice in
 * one second is the same run (its events are duplicates); any other run gets new ids, so a person can be
 * reconciled again after a later change.
 */
export function reconcileRunId(roster: Buffer | string, nowMs: number): string {
  const time = new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${time}-${createHash('sha256').update(roster).digest('hex').slice(0, 12)}`;
}

/** `reconcile-<run>-<type>-<digest of the email>`: within the prefix no sender may use (sender-rules.ts). */
export function reconcileEventId(runId: string, type: EventType, email: string): string {
  const digest = createHash('sha256').update(email).digest('hex').slice(0, 16);
  return `${DERIVED_ID_PREFIXES.reconcile}${runId}-${type}-${digest}`;
}

export async function applyComparison(
  { report, entryOf }: Comparison,
  runId: string,
  deps: ApplyDeps,
): Promise<{ applied: AppliedEvent[]; refused: RefusedEvent[] }> {
  const occurredAt = new Date((deps.now ?? Date.now)()).toISOString();
  const refused: RefusedEvent[] = [];
  const events: CanonicalEvent[] = [];
  const build = (
    type: EventType,
    email: string,
    fields: Omit<CanonicalEvent, 'id' | 'type' | 'occurredAt'>,
  ) => {
    const id = reconcileEventId(runId, type, email);
    const parsed = parseCanonicalEvent({ ...fields, id, type, occurredAt });
    if (parsed.ok) events.push(parsed.event);
    else refused.push({ id, type, email, reason: parsed.issues.map(describeIssue).join('; ') });
  };

  const present = (type: EventType, email: string) => {
    const entry = entryOf.get(email);
    if (!entry) return;
    const { id: _id, type: _type, occurredAt: _at, ...fields } = entry.event;
    build(type, email, fields);
  };
  for (const { email } of report.missing) present('hire', email);
  for (const email of new Set(report.roleDrift.map((drift) => drift.email))) present('role_change', email);
  for (const { email } of report.orphans) {
    build('offboard', email, { employee: { id: await employeeIdOf(email, deps.ownerOf), email } });
  }

  const refusals = policyRefusalsOf(events, RECONCILE_SOURCE, deps.policy);
  const refusedIndex = new Set(refusals.map((r) => r.index));
  for (const r of refusals) refused.push({ ...summaryOf(r.event), reason: reasonOf(r) });
  const allowed = events.filter((_, index) => !refusedIndex.has(index));
  const submissions = allowed.map((event) => ({ event, derivedId: true as const }));
  const accepted = await acceptEvents(
    allowed,
    RECONCILE_SOURCE,
    deps,
    idConflictCheck(RECONCILE_SOURCE, submissions),
  );
  const applied: AppliedEvent[] = [];
  accepted.forEach((answer, index) => {
    const event = allowed[index]!;
    if (answer.conflict === undefined) applied.push(summaryOf(event));
    else refused.push({ ...summaryOf(event), reason: answer.conflict });
  });
  deps.log?.info('reconcile applied', { runId, applied: applied.length, refused: refused.length });
  return { applied, refused: refused.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
}

const summaryOf = (event: CanonicalEvent): AppliedEvent => ({
  id: event.id,
  type: event.type,
  email: event.employee.email,
});

/**
 * The employee id an orphan's offboard names: its holder's when the state store knows one (`id:<id>`); the
 * email otherwise (an email-keyed person, or an account the pipeline never provisioned). A holder whose key
 * is a digest (an id too long or not ASCII) cannot be named back: the email it is, and the worker then
 * refuses the offboard if that holder is still active, naming them (the report says it failed).
 */
async function employeeIdOf(
  email: string,
  ownerOf: ((email: string) => Promise<string | undefined>) | undefined,
): Promise<string> {
  const owner = ownerOf ? await ownerOf(email) : undefined;
  return owner?.startsWith('id:') ? owner.slice('id:'.length) : email;
}
