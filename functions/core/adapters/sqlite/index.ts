import type Database from 'better-sqlite3';
import type { StateStore } from '../../engine/ports';
import { personExpiresAtMs } from '../../privacy/retention';
import { purgeExpired } from './purge-expired';
import { releaseAbandonedClaims } from './release-claims';
import { DEFAULT_RETENTION_DAYS, type Retention } from './retention';
import { createStateSchema } from './schema';
import { SqliteEventStore } from './sqlite-event-store';
import { SqliteForget } from './sqlite-forget';
import { SqlitePersonDirectory } from './sqlite-person-directory';
import { SqliteStepLedger } from './sqlite-step-ledger';

export {
  createStateSchema,
  purgeExpired,
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
  };
}

function stampUnexpiredPeople(db: Database.Database, retention: Retention): void {
  const expiresAtMs = personExpiresAtMs(retention.now(), retention.days);
  db.transaction(() => {
    db.prepare('UPDATE people SET expires_at_ms = ? WHERE expires_at_ms IS NULL').run(expiresAtMs);
    db.prepare('UPDATE email_owners SET expires_at_ms = ? WHERE expires_at_ms IS NULL').run(expiresAtMs);
  }).immediate();
}
