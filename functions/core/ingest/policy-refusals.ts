import type { CanonicalEvent } from '../events/canonical-event';
import { describeIssue, type ValidationIssue } from '../events/validation-issues';
import { ingestIssues, type Policy } from '../policy/policy';
import type { ParsedBatch } from './batch';
import { type IngestResponse, problem } from './http';

/*
 * The one place ingest applies the policy, before anything is recorded or enqueued. Each route refuses in its
 * own way: POST /events the whole request (as it does an invalid event), POST /batch the row by its line
 * (strict mode then refuses the file), BambooHR skips the entry (a refused delivery would be redelivered as
 * it is, again and again). The worker checks again before writing; this is the early, clear answer.
 */

/** An event the policy refuses: where it was in the request, and why. */
export type PolicyRefusal = { index: number; event: CanonicalEvent; issues: ValidationIssue[] };

/** The events of a request the policy refuses; none without a policy. */
export function policyRefusalsOf(
  events: readonly CanonicalEvent[],
  source: string,
  policy: Policy | undefined,
): PolicyRefusal[] {
  if (!policy) return [];
  return events.flatMap((event, index) => {
    const issues = ingestIssues(policy, event, source);
    return issues.length > 0 ? [{ index, event, issues }] : [];
  });
}

/** One line for an operator: every reason, each at its field. */
export const reasonOf = (refusal: PolicyRefusal): string =>
  `refused by policy: ${refusal.issues.map(describeIssue).join('; ')}`;

/** POST /events: 422 naming each refused event (by id) and field; nothing of the request was accepted. */
export function refusedByPolicy(refusals: readonly PolicyRefusal[], many: boolean): IngestResponse {
  const issues = refusals.flatMap((r) =>
    r.issues.map((issue) => ({ ...(many ? { event: r.index } : {}), ...issue })),
  );
  const each = refusals.map((r) => `event ${r.event.id}: ${r.issues.map(describeIssue).join('; ')}`);
  return problem(422, {
    error: 'refused_by_policy',
    message: `${each.join('; ')}; nothing was accepted`,
    issues,
  });
}

/** POST /batch: refused rows move from accepted to rejected, each with its line and reason. */
export function withPolicyApplied(
  batch: ParsedBatch,
  source: string,
  policy: Policy | undefined,
): ParsedBatch {
  const refusals = policyRefusalsOf(
    batch.accepted.map((row) => row.event),
    source,
    policy,
  );
  if (refusals.length === 0) return batch;
  const refused = new Set(refusals.map((r) => r.index));
  return {
    accepted: batch.accepted.filter((_, index) => !refused.has(index)),
    rejected: [
      ...batch.rejected,
      ...refusals.map((r) => ({ line: batch.accepted[r.index]?.line ?? 0, error: reasonOf(r) })),
    ],
  };
}
