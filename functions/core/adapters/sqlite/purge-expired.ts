import type Database from 'better-sqlite3';
import { EVENT_STATUSES, isTerminal } from '../../engine/ports';
import { createStateSchema, sqlWordList } from './schema';

const TERMINAL = sqlWordList(EVENT_STATUSES.filter(isTerminal));

/**
 * Deletes terminal events and ledger rows whose retention ended before nowMs: what DynamoDB TTL does on AWS.
 * Marks are never purged. Run now and then (at start, hourly), not per write: it scans both tables.
 * The status condition is a second guard; expiry is only ever set on terminal events.
 */
export function purgeExpired(db: Database.Database, nowMs: number): { events: number; steps: number } {
  createStateSchema(db);
  const purgeEvents = db.prepare(
    `DELETE FROM event_records WHERE expires_at_ms < ? AND status IN (${TERMINAL})`,
  );
  const purgeSteps = db.prepare('DELETE FROM step_ledger WHERE expires_at_ms < ?');
  return db
    .transaction(() => ({ events: purgeEvents.run(nowMs).changes, steps: purgeSteps.run(nowMs).changes }))
    .immediate();
}
