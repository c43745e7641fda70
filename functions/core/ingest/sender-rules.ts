import type { ValidationIssue } from '../events/validation-issues';
import { futureOccurredAtIssue } from './occurred-at-bound';
import { reservedIdIssue } from './reserved-ids';

/** What a sender wrote for an event, before the schema normalised it. */
export type SenderFields = { id?: unknown; occurredAt?: unknown };

/**
 * Ingest's rules on top of the canonical schema, for what a sender sent (not what the pipeline filled
 * in): an id may not lie in a derived namespace and `occurredAt` may not lie in the future. A field the
 * schema already found wrong is not reported twice. Paths are canonical (`id`, `occurredAt`).
 */
export function senderRuleIssues(
  fields: SenderFields,
  nowMs: number,
  schemaIssues: readonly ValidationIssue[],
): ValidationIssue[] {
  const flagged = new Set(schemaIssues.map((issue) => issue.path));
  const issues: ValidationIssue[] = [];
  const reserved = flagged.has('id') ? undefined : reservedIdIssue(fields.id);
  if (reserved) issues.push(reserved);
  const future = flagged.has('occurredAt') ? undefined : futureOccurredAtIssue(fields.occurredAt, nowMs);
  if (future) issues.push(future);
  return issues;
}

/** The fields of a JSON value that may be an event; nothing when it is not an object. */
export function senderFieldsOf(value: unknown): SenderFields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const record = value as Record<string, unknown>;
  return { id: record.id, occurredAt: record.occurredAt };
}
