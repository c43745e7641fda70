import type Database from 'better-sqlite3';
import { EVENT_STATUSES } from '../../engine/ports';

/** A constant set of words as an SQL list, for IN and CHECK clauses; never for values from outside. */
export const sqlWordList = (words: readonly string[]) => words.map((w) => `'${w}'`).join(', ');

/*
 * The state tables, next to the local queue's tables in the same file:
 *
 *   event_records   one row per event; the canonical event and its steps as JSON text. expires_at_ms is set
 *                   once the event is terminal and cleared when it reopens: the local analogue of the
 *                   DynamoDB TTL attribute, swept by purgeExpired.
 *   step_ledger     one row per (event, step): a claim with its lease, or done. Expires like the events.
 *   people          one row per person (HR employee id, or email): the order mark (time, acceptance sequence,
 *                   event), status and accounts (JSON list of emails, current last). expires_at_ms is moved
 *                   on by every write of the person: the retention period after their last event, never
 *                   sooner than a dead letter could still be redriven (privacy/retention.ts).
 *   email_owners    which person each email (TrueFoundry account) is linked to; expires with its person.
 *   forget_audit    one row per `forget`: a digest of whom, counts, when, by whom. No personal data; kept.
 *   sequences       the acceptance sequence counter.
 *   employee_marks  per-email marks written by versions before people existed: read, never written, so an
 *                   old data directory keeps ordering the events it already saw.
 *
 * The status index serves list() both ways: one status, oldest update first; or all, status by status, as a
 * Scan of the DynamoDB byStatus index reads. event_id in it makes the order total, so a page cursor is exact.
 * No index on expires_at_ms: the purge is an occasional sweep, an index would cost every hot-path write.
 */
const STATE_SCHEMA = `
CREATE TABLE IF NOT EXISTS event_records (
  event_id TEXT PRIMARY KEY,
  employee_key TEXT NOT NULL,
  type TEXT NOT NULL,
  occurred_at TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN (${sqlWordList(EVENT_STATUSES)})),
  attempts INTEGER NOT NULL,
  event TEXT NOT NULL,
  source TEXT NOT NULL,
  enqueued INTEGER NOT NULL,
  steps TEXT NOT NULL,
  error TEXT,
  note TEXT,
  received_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  expires_at_ms INTEGER,
  sequence INTEGER,
  dead_lettered_by TEXT,
  due_at TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS event_records_by_status ON event_records (status, updated_at, event_id);
CREATE TABLE IF NOT EXISTS step_ledger (
  event_id TEXT NOT NULL,
  step_key TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('claimed', 'done')),
  owner TEXT NOT NULL,
  lease_until_ms INTEGER NOT NULL,
  done_at TEXT,
  expires_at_ms INTEGER NOT NULL,
  claimed_at_ms INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, step_key)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS employee_marks (
  employee_key TEXT PRIMARY KEY,
  occurred_at TEXT NOT NULL,
  event_id TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS people (
  person_key TEXT PRIMARY KEY,
  mark_at TEXT,
  mark_sequence INTEGER,
  mark_event_id TEXT,
  status TEXT CHECK (status IN ('active', 'offboarded')),
  accounts TEXT NOT NULL,
  expires_at_ms INTEGER
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS email_owners (
  email TEXT PRIMARY KEY,
  person_key TEXT NOT NULL,
  expires_at_ms INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS email_owners_by_person ON email_owners (person_key);
CREATE TABLE IF NOT EXISTS forget_audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  person TEXT NOT NULL,
  at TEXT NOT NULL,
  operator TEXT NOT NULL,
  events INTEGER NOT NULL,
  steps INTEGER NOT NULL,
  people INTEGER NOT NULL,
  emails INTEGER NOT NULL,
  queued INTEGER NOT NULL,
  dead_letters INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS sequences (
  name TEXT PRIMARY KEY,
  next INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
`;

/** Columns added since the first release: an existing data directory gets them on its next start. */
const ADDED_COLUMNS: { table: string; column: string; definition: string }[] = [
  { table: 'event_records', column: 'sequence', definition: 'INTEGER' },
  { table: 'step_ledger', column: 'claimed_at_ms', definition: 'INTEGER NOT NULL DEFAULT 0' },
  { table: 'event_records', column: 'dead_lettered_by', definition: 'TEXT' },
  // NULL on rows from before people expired: createSqliteStateStore stamps them when it opens the file.
  { table: 'people', column: 'expires_at_ms', definition: 'INTEGER' },
  { table: 'email_owners', column: 'expires_at_ms', definition: 'INTEGER' },
  { table: 'event_records', column: 'due_at', definition: 'TEXT' },
];

/*
 * Effective dates: the scheduled events by due time, for the scheduler's sweep (a fraction of a second
 * apart) and a person's pending ones. Partial, so the hot path's writes of other statuses never touch it.
 * Created after the columns are added and the table widened: an old file has no due_at before that.
 */
const SCHEDULE_INDEX = `CREATE INDEX IF NOT EXISTS event_records_due ON event_records (due_at, sequence)
  WHERE status = 'scheduled'`;

/** Creates the state tables where they are missing; safe to run on every start. */
export function createStateSchema(db: Database.Database): void {
  db.exec(STATE_SCHEMA);
  for (const { table, column, definition } of ADDED_COLUMNS) {
    const columns = db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[];
    if (!columns.some((c) => c.name === column))
      db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  }
  widenStatusCheck(db);
  db.exec(SCHEDULE_INDEX);
}

/**
 * A data directory made before a status existed (`held`, `scheduled`, `cancelled`) has a CHECK on
 * event_records.status that refuses it, and SQLite cannot alter a CHECK: the table is rebuilt under the
 * current one, rows kept, in one transaction. Runs only when a status is missing from the stored definition.
 */
function widenStatusCheck(db: Database.Database): void {
  const row = db
    .prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'event_records'")
    .get() as { sql: string } | undefined;
  if (!row || EVENT_STATUSES.every((status) => row.sql.includes(`'${status}'`))) return;
  db.transaction(() => {
    db.exec('ALTER TABLE event_records RENAME TO event_records_before_widening');
    db.exec('DROP INDEX IF EXISTS event_records_by_status');
    db.exec('DROP INDEX IF EXISTS event_records_due');
    db.exec(STATE_SCHEMA);
    const columns = (
      db.prepare("SELECT name FROM pragma_table_info('event_records_before_widening')").all() as {
        name: string;
      }[]
    )
      .map((c) => c.name)
      .join(', ');
    db.exec(`INSERT INTO event_records (${columns}) SELECT ${columns} FROM event_records_before_widening`);
    db.exec('DROP TABLE event_records_before_widening');
  }).immediate();
}
