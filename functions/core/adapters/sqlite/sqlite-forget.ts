import type Database from 'better-sqlite3';
import type { ForgetAudit, ForgetOptions, ForgetOutcome, ForgetSubject } from '../../engine/ports';
import type { SqlitePersonDirectory } from './sqlite-person-directory';

type FoundEvent = { eventId: string; status: string };

/**
 * StateStore.forget on SQLite: one IMMEDIATE transaction finds the person's events (a scan of
 * event_records by person key and email: a rare operator action, not worth an index every write would pay
 * for), deletes them with their ledger rows, the person rows and links, and writes the audit row. The
 * connection has secure_delete on (local/database.ts), so the freed bytes are zeroed; a checkpoint then
 * truncates the write-ahead log, whose older frames still held them.
 */
export class SqliteForget {
  private readonly findEvents: Database.Statement<[{ personKeys: string; email: string | null }], FoundEvent>;
  private readonly deleteSteps: Database.Statement<[string]>;
  private readonly deleteEvent: Database.Statement<[string]>;
  private readonly insertAudit: Database.Statement<[ForgetAudit]>;
  private readonly readAudits: Database.Statement<[], ForgetAudit>;
  private readonly forgetTx: Database.Transaction<
    (subject: ForgetSubject, options: ForgetOptions) => ForgetOutcome
  >;

  constructor(
    private readonly db: Database.Database,
    people: SqlitePersonDirectory,
  ) {
    this.findEvents = db.prepare(
      `SELECT event_id AS eventId, status FROM event_records
      WHERE employee_key IN (SELECT value FROM json_each(@personKeys))
        OR (@email IS NOT NULL AND json_extract(event, '$.employee.email') = @email)`,
    );
    this.deleteSteps = db.prepare('DELETE FROM step_ledger WHERE event_id = ?');
    this.deleteEvent = db.prepare('DELETE FROM event_records WHERE event_id = ?');
    this.insertAudit = db.prepare(
      `INSERT INTO forget_audit (person, at, operator, events, steps, people, emails, queued, dead_letters)
      VALUES (@person, @at, @by, @events, @steps, @people, @emails, @queued, @deadLetters)`,
    );
    this.readAudits = db.prepare(
      `SELECT person, at, operator AS "by", events, steps, people, emails, queued, dead_letters AS deadLetters
      FROM forget_audit ORDER BY seq`,
    );
    this.forgetTx = db.transaction((subject: ForgetSubject, options: ForgetOptions): ForgetOutcome => {
      const found = this.findEvents.all({
        personKeys: JSON.stringify(subject.personKeys),
        email: subject.email ?? null,
      });
      const busy = found.filter((e) => e.status === 'queued' || e.status === 'running');
      if (options.refuseWhileBusy && busy.length > 0) return { busy: busy.map((e) => e.eventId) };
      let events = 0;
      let steps = 0;
      for (const { eventId } of found) {
        steps += this.deleteSteps.run(eventId).changes;
        events += this.deleteEvent.run(eventId).changes;
      }
      const forgotten: ForgetAudit = {
        ...options.audit,
        events,
        steps,
        ...people.forgetInTransaction(subject),
      };
      this.insertAudit.run(forgotten);
      return { forgotten };
    });
  }

  forget(subject: ForgetSubject, options: ForgetOptions): ForgetOutcome {
    const outcome = this.forgetTx.immediate(subject, options);
    // A file database only: the in-memory one has no log. PASSIVE would leave the frames in the file.
    if ('forgotten' in outcome && this.db.name !== ':memory:') this.db.pragma('wal_checkpoint(TRUNCATE)');
    return outcome;
  }

  audits(): ForgetAudit[] {
    return this.readAudits.all();
  }
}
