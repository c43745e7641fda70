import { createHash } from 'node:crypto';
import { DERIVED_ID_PREFIXES } from '../reserved-ids';

/** What makes two CSV rows the same event; the other cells describe the person, not the event. */
export type CsvEventContent = {
  type: string | undefined;
  employeeId: string | undefined;
  email: string | undefined;
  roles: readonly string[] | undefined;
  resourceRoles: readonly { resourceType: string; roles: readonly string[] }[] | undefined;
  /** Only when the row gives one: the receipt time changes when an upload resumes, and must still dedupe. */
  occurredAt: string | undefined;
};

/**
 * A stable id for a row that has none: `csv-<batch id>-<24 hex>`, at most 93 printable ASCII characters.
 * Within one batch the same row gets the same id, so a resumed upload (the CLI sends the same batch id)
 * drops the rows already sent; the same row in a new batch is a new instruction (an offboard sent again
 * after a rehire must apply) and gets a new id. Role order is not significant.
 */
export function deriveCsvEventId(content: CsvEventContent, batchId: string): string {
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
  const digest = createHash('sha256').update(normalised).digest('hex').slice(0, 24);
  // Batch ids are 1-64 of [A-Za-z0-9._-] (POST /batch checks), and the digest has a fixed length, so no two
  // batches share an id.
  return `${DERIVED_ID_PREFIXES.batch}${batchId}-${digest}`;
}

const sortedUnique = (values: readonly string[]): string[] => [...new Set(values)].sort(compare);
// Code-unit order, not locale order, so the id is the same on every machine.
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
