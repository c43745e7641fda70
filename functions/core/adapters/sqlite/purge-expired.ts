import type Database from 'better-sqlite3';
import { EVENT_STATUSES, isTerminal } from '../../engine/ports';
import { createStateSchema, sqlWordList } from './schema';

const TERMINAL = sqlWordList(EVENT_STATUSES.filter(isTerminal));

export type Purged = { events: number; steps: number; people: number; emails: number };

/**
 * Deletes terminal events, ledger rows, people and email links whose retention ended before nowMs: what
 * DynamoDB TTL does on AWS. Legacy per-email marks are not: they have no time of writing to count from.
 * Run now and then (at start, hourly), not per write: it scans the tables. The status condition is a second
 * guard; expiry is only ever set on terminal events.
 */
export function purgeExpired(db: Database.Database, nowMs: number): Purged {
  createStateSchema(db);
  const purgeEvents = db.prepare(
    `DELETE FROM event_records WHERE expires_at_ms < ? AND status IN (${TERMINAL})`,
  );
  const purgeSteps = db.prepare('DELETE FROM step_ledger WHERE expires_at_ms < ?');
  const purgePeople = db.prepare('DELETE FROM people WHERE expires_at_ms < ?');
  const purgeOwners = db.prepare('DELETE FROM email_owners WHERE expires_at_ms < ?');
  return db
    .transaction(() => ({
      events: purgeEvents.run(nowMs).changes,
      steps: purgeSteps.run(nowMs).changes,
      people: purgePeople.run(nowMs).changes,
      emails: purgeOwners.run(nowMs).changes,
    }))
    .immediate();
}
