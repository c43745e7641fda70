import type { ValidationIssue } from '../events/validation-issues';

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
