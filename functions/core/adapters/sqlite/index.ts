import type Database from 'better-sqlite3';
import type { StateStore } from '../../engine/ports';
import { purgeExpired } from './purge-expired';
import { releaseAbandonedClaims } from './release-claims';
import { DEFAULT_RETENTION_DAYS, type Retention } from './retention';
import { createStateSchema } from './schema';
import { SqliteEmployeeState } from './sqlite-employee-state';
import { SqliteEventStore } from './sqlite-event-store';
import { SqliteStepLedger } from './sqlite-step-ledger';

export {
  createStateSchema,
  purgeExpired,
  releaseAbandonedClaims,
  SqliteEmployeeState,
  SqliteEventStore,
  SqliteStepLedger,
};

export type SqliteStateStoreOptions = {
  /** Days finished events and ledger rows are kept before purgeExpired deletes them. */
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
  return {
    events: new SqliteEventStore(db, retention),
    ledger: new SqliteStepLedger(db, retention),
    employees: new SqliteEmployeeState(db),
  };
}
