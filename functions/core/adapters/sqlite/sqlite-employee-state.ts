import type Database from 'better-sqlite3';
import type { EmployeeState, HighWaterMark } from '../../engine/ports';

type AdvanceResult = { applied: true } | { applied: false; newest: HighWaterMark };

/**
 * EmployeeState on the employee_marks table: one upsert that moves the mark only forward. occurredAt
 * compares as time because it is one fixed UTC format. Marks never expire: they must outlive the events they
 * guard, or a late old event could undo a newer one.
 */
export class SqliteEmployeeState implements EmployeeState {
  private readonly upsertMark: Database.Statement<[HighWaterMark & { employeeKey: string }]>;
  private readonly read: Database.Statement<[string], HighWaterMark>;
  private readonly advanceMark: Database.Transaction<
    (employeeKey: string, mark: HighWaterMark) => AdvanceResult
  >;

  constructor(db: Database.Database) {
    // Equal timestamps pass: a redelivery of the event that set the mark must go on.
    this.upsertMark = db.prepare(
      `INSERT INTO employee_marks (employee_key, occurred_at, event_id)
        VALUES (@employeeKey, @occurredAt, @eventId)
      ON CONFLICT (employee_key) DO UPDATE SET
        occurred_at = excluded.occurred_at, event_id = excluded.event_id
      WHERE occurred_at <= excluded.occurred_at`,
    );
    this.read = db.prepare(
      'SELECT occurred_at AS occurredAt, event_id AS eventId FROM employee_marks WHERE employee_key = ?',
    );
    this.advanceMark = db.transaction((employeeKey: string, mark: HighWaterMark): AdvanceResult => {
      if (this.upsertMark.run({ employeeKey, ...mark }).changes === 1) return { applied: true };
      // Lost: a strictly newer mark is there, and cannot go away (marks are never deleted).
      const newest = this.read.get(employeeKey);
      if (!newest) throw new Error(`the mark of ${employeeKey} disappeared while being advanced`);
      return { applied: false, newest };
    });
  }

  async advance(employeeKey: string, mark: HighWaterMark) {
    return this.advanceMark.immediate(employeeKey, mark);
  }

  async get(employeeKey: string) {
    return this.read.get(employeeKey);
  }
}
