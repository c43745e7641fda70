import type { ValidationIssue } from '../events/validation-issues';

/** What a sender wrote for an event, before the schema normalised it. */
export type SenderFields = { id?: unknown; occurredAt?: unknown; effectiveAt?: unknown };

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
  const distant = flagged.has('effectiveAt') ? undefined : distantEffectiveAtIssue(fields.effectiveAt, nowMs);
  if (distant) issues.push(distant);
  return issues;
}

/** The fields of a JSON value that may be an event; nothing when it is not an object. */
export function senderFieldsOf(value: unknown): SenderFields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const record = value as Record<string, unknown>;
  return { id: record.id, occurredAt: record.occurredAt, effectiveAt: record.effectiveAt };
}

/**
 * The prefix of the ids the pipeline derives for each source that sends none. Ids are the idempotency key,
 * so a sender who could send such an id would claim, in advance, an event another source has yet to send:
 * no sender may use them, whichever source it is (a batch's derived ids are per batch, so an explicit
 * `csv-` id in one batch could claim another batch's row). `reconcile-` is kept for reconciliation.
 */
export const DERIVED_ID_PREFIXES = {
  batch: 'csv-',
  bamboohr: 'bamboohr-',
  reconcile: 'reconcile-',
} as const;

const OWNERS: readonly (readonly [string, string])[] = [
  [DERIVED_ID_PREFIXES.batch, 'rows of a batch that have no id'],
  [DERIVED_ID_PREFIXES.bamboohr, 'BambooHR webhooks'],
  [DERIVED_ID_PREFIXES.reconcile, 'reconciliation'],
];

/** The issue to report when an id sent by a sender starts with a derived prefix, else undefined. */
export function reservedIdIssue(id: unknown): ValidationIssue | undefined {
  if (typeof id !== 'string') return undefined;
  const trimmed = id.trim();
  const owner = OWNERS.find(([prefix]) => trimmed.startsWith(prefix));
  if (owner === undefined) return undefined;
  return {
    path: 'id',
    message: `"${trimmed}" starts with "${owner[0]}", which is reserved for the ids the pipeline derives for ${owner[1]}; choose another id`,
  };
}

/**
 * How far ahead of the server's clock an `occurredAt` may lie. Events apply in time order, so a time in
 * the future would outrank every real change of that person until then; 5 minutes is the usual allowance
 * for clocks that drift (the same window the webhook signatures allow).
 */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * The issue to report when `occurredAt` (any ISO-8601 date-time with a zone) lies more than the allowed
 * skew after `nowMs`, else undefined. A value that is not a date-time is left to the schema to name.
 */
export function futureOccurredAtIssue(occurredAt: unknown, nowMs: number): ValidationIssue | undefined {
  if (typeof occurredAt !== 'string') return undefined;
  const at = Date.parse(occurredAt);
  if (Number.isNaN(at) || at <= nowMs + MAX_CLOCK_SKEW_MS) return undefined;
  return {
    path: 'occurredAt',
    message:
      `is in the future (${new Date(at).toISOString()}, the server's time is ${new Date(nowMs).toISOString()}` +
      `, at most ${MAX_CLOCK_SKEW_MS / 60_000} minutes of clock skew are allowed): it says when HR recorded the change`,
  };
}

/**
 * How far ahead an `effectiveAt` may lie: HR enters starts and leavers weeks or months ahead, not years; a
 * date further out is a typo (2062 for 2026) that would park the event, and its person's later events'
 * order, for decades.
 */
export const MAX_EFFECTIVE_AHEAD_DAYS = 400;

/** The issue to report when `effectiveAt` lies more than MAX_EFFECTIVE_AHEAD_DAYS after `nowMs`. */
export function distantEffectiveAtIssue(effectiveAt: unknown, nowMs: number): ValidationIssue | undefined {
  if (typeof effectiveAt !== 'string') return undefined;
  const at = Date.parse(effectiveAt);
  if (Number.isNaN(at) || at <= nowMs + MAX_EFFECTIVE_AHEAD_DAYS * 86_400_000) return undefined;
  return {
    path: 'effectiveAt',
    message: `is more than ${MAX_EFFECTIVE_AHEAD_DAYS} days ahead (${new Date(at).toISOString()}); check the year`,
  };
}
