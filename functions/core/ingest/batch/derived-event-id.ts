import { createHash } from 'node:crypto';

/** What makes two CSV rows the same event; the other cells describe the person, not the event. */
export type CsvEventContent = {
  type: string | undefined;
  employeeId: string | undefined;
  email: string | undefined;
  roles: readonly string[] | undefined;
  resourceRoles: readonly { resourceType: string; roles: readonly string[] }[] | undefined;
  /** Only when the row gives one: the receipt time changes on every upload and would defeat dedupe. */
  occurredAt: string | undefined;
};

/**
 * A stable id for a row that has none, so that re-sending the same file (a resumed or repeated upload)
 * yields the same ids and the queue and event store drop the repeats. Role order is not significant.
 */
export function deriveCsvEventId(content: CsvEventContent): string {
  const normalised = JSON.stringify([
    content.type ?? null,
    content.employeeId ?? null,
    content.email?.toLowerCase() ?? null,
    content.roles ? sortedUnique(content.roles) : null,
    content.resourceRoles
      ? content.resourceRoles
          .map(({ resourceType, roles }) => [resourceType, sortedUnique(roles)])
          .sort((a, b) => compare(JSON.stringify(a), JSON.stringify(b)))
      : null,
    content.occurredAt ?? null,
  ]).normalize('NFC'); // as the canonical parse does, so both spellings of "é" give one id
  return `csv-${createHash('sha256').update(normalised).digest('hex').slice(0, 24)}`;
}

const sortedUnique = (values: readonly string[]): string[] => [...new Set(values)].sort(compare);
// Code-unit order, not locale order, so the id is the same on every machine.
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
