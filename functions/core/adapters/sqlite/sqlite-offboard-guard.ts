import type Database from 'better-sqlite3';
import {
  type Admissions,
  admitInWindow,
  type GuardLimit,
  type HeldEntry,
  type HoldDecision,
  holdKeyOf,
  inAcceptanceOrder,
  type OffboardGuard,
} from '../../engine/offboard-guard';

/*
 * The offboarding guard's tables, next to the state tables (offboard-guard.ts says what each holds):
 *   offboard_admissions  one row per admitted offboard: the sliding window, pruned as it is read.
 *   offboard_holds       one row per held event: the person's key digest, the event, its acceptance order.
 *   hold_decisions       one row per operator decision on a held event.
 */
const GUARD_SCHEMA = `
CREATE TABLE IF NOT EXISTS offboard_admissions (
  event_id TEXT PRIMARY KEY,
  admitted_at_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS offboard_holds (
  person_hash TEXT NOT NULL,
  event_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  PRIMARY KEY (person_hash, event_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hold_decisions (
  event_id TEXT PRIMARY KEY,
  decision TEXT NOT NULL CHECK (decision IN ('released', 'rejected')),
  decided_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;
`;

/**
 * OffboardGuard on the local SQLite file. Admission reads the window and writes the admission in one
 * IMMEDIATE transaction: worker processes on the same file never both take the last place.
 */
export class SqliteOffboardGuard implements OffboardGuard {
  private readonly admitNow: Database.Transaction<
    (eventId: string, nowMs: number, limit: GuardLimit) => boolean
  >;
  private readonly statements;

  constructor(db: Database.Database) {
    db.exec(GUARD_SCHEMA);
    this.statements = {
      prune: db.prepare<[number]>('DELETE FROM offboard_admissions WHERE admitted_at_ms <= ?'),
      window: db.prepare<[], { event_id: string; admitted_at_ms: number }>(
        'SELECT event_id, admitted_at_ms FROM offboard_admissions',
      ),
      admit: db.prepare<[string, number]>(
        'INSERT INTO offboard_admissions (event_id, admitted_at_ms) VALUES (?, ?)',
      ),
      hold: db.prepare<[string, string, number]>(
        'INSERT INTO offboard_holds (person_hash, event_id, sequence) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      holdsOf: db.prepare<[string], { event_id: string; sequence: number }>(
        'SELECT event_id, sequence FROM offboard_holds WHERE person_hash = ?',
      ),
      unhold: db.prepare<[string, string]>(
        'DELETE FROM offboard_holds WHERE person_hash = ? AND event_id = ?',
      ),
      decide: db.prepare<[string, string, string]>(
        `INSERT INTO hold_decisions (event_id, decision, decided_at) VALUES (?, ?, ?)
        ON CONFLICT (event_id) DO UPDATE SET decision = excluded.decision, decided_at = excluded.decided_at`,
      ),
      decisionOf: db.prepare<[string], { decision: HoldDecision }>(
        'SELECT decision FROM hold_decisions WHERE event_id = ?',
      ),
    };
    this.admitNow = db.transaction((eventId: string, nowMs: number, limit: GuardLimit) => {
      this.statements.prune.run(nowMs - limit.windowMs);
      const admissions: Admissions = Object.fromEntries(
        this.statements.window.all().map((row) => [row.event_id, row.admitted_at_ms]),
      );
      const verdict = admitInWindow(admissions, eventId, nowMs, limit);
      if (verdict.next) this.statements.admit.run(eventId, nowMs);
      return verdict.admitted;
    });
  }

  async admit(eventId: string, nowMs: number, limit: GuardLimit) {
    return this.admitNow.immediate(eventId, nowMs, limit);
  }

  async hold(personKey: string, entry: HeldEntry) {
    this.statements.hold.run(holdKeyOf(personKey), entry.eventId, entry.sequence);
  }

  async holdsOf(personKey: string) {
    return this.statements.holdsOf
      .all(holdKeyOf(personKey))
      .map((row) => ({ eventId: row.event_id, sequence: row.sequence }))
      .sort(inAcceptanceOrder);
  }

  async unhold(personKey: string, eventId: string) {
    this.statements.unhold.run(holdKeyOf(personKey), eventId);
  }

  async decide(eventId: string, decision: HoldDecision, at: string) {
    this.statements.decide.run(eventId, decision, at);
  }

  async decisionOf(eventId: string) {
    return this.statements.decisionOf.get(eventId)?.decision;
  }
}
