import type { ValidationIssue } from '../events/validation-issues';

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
