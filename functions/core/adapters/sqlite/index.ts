import type Database from 'better-sqlite3';
import { EVENT_STATUSES, isTerminal, type StateStore } from '../../engine/ports';
import { DEFAULT_RETENTION_DAYS, personExpiresAtMs, type Retention } from '../../privacy/retention';
import { createStateSchema, sqlWordList } from './schema';
import { SqliteEventStore } from './sqlite-event-store';
import { SqliteForget } from './sqlite-forget';
import { SqliteOffboardGuard } from './sqlite-offboard-guard';
import { SqlitePersonDirectory } from './sqlite-person-directory';
import { releaseAbandonedClaims, SqliteStepLedger } from './sqlite-step-ledger';

export {
  createStateSchema,
  releaseAbandonedClaims,
  SqliteEventStore,
  SqlitePersonDirectory,
  SqliteStepLedger,
};

export type SqliteStateStoreOptions = {
  /**
   * Days finished events and ledger rows are kept before purgeExpired deletes them; people and their email
   * links, as long after their last event (at least as long as a dead letter lives).
   */
  retentionDays?: number;
  /** Clock for expiry stamps, in epoch milliseconds. */
  now?: () => number;
};

/** The state store in the local runtime's SQLite file (local/database.ts); creates its tables if missing. */
export function createSqliteStateStore(
  db: Database.Database,
  options: SqliteStateStoreOptions = {},
): StateStore {
  createStateSchema(db);
  const retention: Retention = {
    now: options.now ?? Date.now,
    days: options.retentionDays ?? DEFAULT_RETENTION_DAYS,
  };
  const events = new SqliteEventStore(db, retention);
  const people = new SqlitePersonDirectory(db, retention);
  const forget = new SqliteForget(db, people);
  // People and links from before they expired have no expiry yet: theirs starts now.
  stampUnexpiredPeople(db, retention);
  // The mark and the status in one transaction: a crash leaves both before or both after.
  const recordSuccess = db.transaction(
    (
      eventId: string,
      result: { at: string; note?: string },
      update: Parameters<StateStore['recordSuccess']>[2],
    ) => {
      const { personKey, ...applied } = update;
      const verdict = people.applyInTransaction(personKey, applied);
      if (verdict.applied) events.finishNow(eventId, { status: 'succeeded', ...result });
      return verdict;
    },
  );
  return {
    events,
    ledger: new SqliteStepLedger(db, retention),
    people,
    recordSuccess: async (eventId, result, update) => recordSuccess.immediate(eventId, result, update),
    forget: async (subject, options) => forget.forget(subject, options),
    forgetAudits: async () => forget.audits(),
    guard: new SqliteOffboardGuard(db),
  };
}

function stampUnexpiredPeople(db: Database.Database, retention: Retention): void {
  const expiresAtMs = personExpiresAtMs(retention.now(), retention.days);
  db.transaction(() => {
    db.prepare('UPDATE people SET expires_at_ms = ? WHERE expires_at_ms IS NULL').run(expiresAtMs);
    db.prepare('UPDATE email_owners SET expires_at_ms = ? WHERE expires_at_ms IS NULL').run(expiresAtMs);
  }).immediate();
}

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
