import type Database from 'better-sqlite3';
import {
  bounded,
  boundedStep,
  MAX_EVENT_TEXT_LENGTH,
  MAX_STORED_STEPS,
  newEventRecord,
} from '../../engine/event-record';
import type {
  EventPage,
  EventRecord,
  EventStatus,
  EventStore,
  StepRecord,
  TerminalStatus,
} from '../../engine/ports';
import { CANCELLABLE_STATUSES, COMPLETED_STATUSES } from '../../engine/ports';
import type { CanonicalEvent } from '../../events/canonical-event';
import { expiresAtMsFor, type Retention } from '../../privacy/retention';
import {
  EVENT_ROW_COLUMNS,
  type EventRow,
  eventRecordOf,
  INSERT_EVENT_ROW,
  type NewEventRow,
  newEventRowOf,
} from './event-row';
import { sqlWordList } from './schema';
import { SqliteEventList } from './sqlite-event-list';

const COMPLETED = sqlWordList([...COMPLETED_STATUSES]);

type Finish = {
  eventId: string;
  status: TerminalStatus;
  at: string;
  error: string | null;
  note: string | null;
};

/**
 * EventStore on the event_records table. Each transition is one statement, or one transaction where a write
 * is followed by the read that answers it, so a process killed at any instant leaves a record either before
 * or after the transition. Transactions are IMMEDIATE: they take the write lock up front, so another process
 * on the same file waits for it instead of failing to upgrade a read.
 */
export class SqliteEventStore implements EventStore {
  private readonly insertIfNew: Database.Statement<[NewEventRow]>;
  /** Inserts a delivery's record, or starts another attempt on one not completed yet. */
  private readonly upsertAttempt: Database.Statement<[NewEventRow]>;
  private readonly read: Database.Statement<[string], EventRow>;
  private readonly setEnqueued: Database.Statement<[{ eventId: string; at: string }]>;
  private readonly appendStep: Database.Statement<[{ eventId: string; step: string }]>;
  private readonly setFinished: Database.Statement<[Finish & { expiresAtMs: number }]>;
  private readonly setRequeued: Database.Statement<[{ eventId: string; at: string; error: string }]>;
  private readonly setHeld: Database.Statement<[{ eventId: string; at: string; reason: string }]>;
  private readonly acceptNew: Database.Transaction<
    (record: EventRecord) => { created: boolean; record: EventRecord }
  >;
  private readonly startNew: Database.Transaction<(row: NewEventRow) => EventRecord>;
  private readonly reserve: Database.Statement<[{ count: number }], { next: number }>;
  private readonly setDeadLettered: Database.Statement<[{ eventId: string; messageId: string }]>;
  private readonly events: SqliteEventList;
  private readonly selectDue: Database.Statement<[{ now: string; limit: number }], EventRow>;
  private readonly selectScheduledOf: Database.Statement<[string], EventRow>;
  private readonly setReleased: Database.Statement<[{ eventId: string; at: string }]>;
  private readonly setCancelled: Database.Statement<
    [{ eventId: string; at: string; note: string; expiresAtMs: number }]
  >;

  constructor(
    db: Database.Database,
    private readonly retention: Retention,
  ) {
    this.insertIfNew = db.prepare(`${INSERT_EVENT_ROW} ON CONFLICT (event_id) DO NOTHING`);
    this.upsertAttempt = db.prepare(
      `${INSERT_EVENT_ROW} ON CONFLICT (event_id) DO UPDATE SET
        status = 'running', attempts = attempts + 1, updated_at = excluded.updated_at, error = NULL,
        expires_at_ms = NULL
      WHERE status NOT IN (${COMPLETED})`,
    );
    this.read = db.prepare(`SELECT ${EVENT_ROW_COLUMNS} FROM event_records WHERE event_id = ?`);
    this.setEnqueued = db.prepare(
      'UPDATE event_records SET enqueued = 1, updated_at = @at WHERE event_id = @eventId',
    );
    // At the cap the oldest step goes, in the same statement that appends the new one.
    this.appendStep = db.prepare(
      `UPDATE event_records SET steps = json_insert(
          CASE WHEN json_array_length(steps) >= ${MAX_STORED_STEPS} THEN json_remove(steps, '$[0]')
            ELSE steps END,
          '$[#]', json(@step))
        WHERE event_id = @eventId`,
    );
    // An absent error or note keeps the one recorded before, as the other adapters do.
    this.setFinished = db.prepare(
      `UPDATE event_records SET status = @status, updated_at = @at, expires_at_ms = @expiresAtMs,
        error = coalesce(@error, error), note = coalesce(@note, note)
      WHERE event_id = @eventId`,
    );
    // Queued again is live again: it must not be purged under its next delivery.
    this.setRequeued = db.prepare(
      `UPDATE event_records SET status = 'queued', updated_at = @at, error = @error, expires_at_ms = NULL
      WHERE event_id = @eventId`,
    );
    // Held is live too: no expiry while it waits for an operator.
    this.setHeld = db.prepare(
      `UPDATE event_records SET status = 'held', updated_at = @at, error = @reason, expires_at_ms = NULL
      WHERE event_id = @eventId`,
    );
    this.acceptNew = db.transaction((record: EventRecord) => this.insertOrRead(record));
    this.startNew = db.transaction((row: NewEventRow) => {
      // Not written: the event was completed already and stays as it was.
      this.upsertAttempt.run(row);
      return this.recordOf(row.eventId);
    });
    // One statement: the counter row is created at 1 and moved past the reserved range atomically.
    this.reserve = db.prepare(
      `INSERT INTO sequences (name, next) VALUES ('acceptance', 1 + @count)
      ON CONFLICT (name) DO UPDATE SET next = next + @count
      RETURNING next`,
    );
    this.setDeadLettered = db.prepare(
      'UPDATE event_records SET dead_lettered_by = @messageId WHERE event_id = @eventId',
    );
    this.events = new SqliteEventList(db);
    // Both read the partial index event_records_due (schema.ts).
    this.selectDue = db.prepare(
      `SELECT ${EVENT_ROW_COLUMNS} FROM event_records WHERE status = 'scheduled' AND due_at <= @now
      ORDER BY due_at, sequence LIMIT @limit`,
    );
    this.selectScheduledOf = db.prepare(
      `SELECT ${EVENT_ROW_COLUMNS} FROM event_records WHERE status = 'scheduled' AND employee_key = ?
      ORDER BY due_at, sequence`,
    );
    // Conditional on the status: a cancel or a delivery that came first wins, and this changes nothing.
    this.setReleased = db.prepare(
      `UPDATE event_records SET status = 'queued', enqueued = 1, updated_at = @at
      WHERE event_id = @eventId AND status = 'scheduled'`,
    );
    this.setCancelled = db.prepare(
      `UPDATE event_records SET status = 'cancelled', updated_at = @at, note = @note, expires_at_ms = @expiresAtMs
      WHERE event_id = @eventId AND status IN (${sqlWordList([...CANCELLABLE_STATUSES])})`,
    );
  }

  async reserveSequences(count: number) {
    const row = this.reserve.get({ count });
    if (!row) throw new Error('the acceptance sequence could not be reserved');
    return row.next - count;
  }

  async accept(
    event: CanonicalEvent,
    meta: { source: string; at: string; sequence: number; dueAt?: string },
  ) {
    const status = meta.dueAt === undefined ? 'queued' : 'scheduled';
    const record = newEventRecord(event, meta.source, meta.at, status, meta.sequence);
    if (meta.dueAt !== undefined) record.dueAt = meta.dueAt;
    // Inside a transaction already (the local runtime's group commit, local/group-commit.ts): no savepoint.
    return this.insertIfNew.database.inTransaction
      ? this.insertOrRead(record)
      : this.acceptNew.immediate(record);
  }

  async dueEvents(query: { now: string; limit: number }) {
    return this.selectDue.all(query).map(eventRecordOf);
  }

  async scheduledOf(personKey: string) {
    return this.selectScheduledOf.all(personKey).map(eventRecordOf);
  }

  async release(eventId: string, at: string) {
    return this.setReleased.run({ eventId, at }).changes === 1;
  }

  async cancel(eventId: string, result: { at: string; note: string }) {
    const note = bounded(result.note, MAX_EVENT_TEXT_LENGTH);
    const changed = this.setCancelled.run({
      eventId,
      at: result.at,
      note,
      expiresAtMs: expiresAtMsFor(this.retention),
    });
    const row = this.read.get(eventId);
    return { cancelled: changed.changes === 1, record: row && eventRecordOf(row) };
  }

  async markEnqueued(eventId: string, at: string) {
    this.changed(eventId, this.setEnqueued.run({ eventId, at }));
  }

  async get(eventId: string) {
    const row = this.read.get(eventId);
    return row && eventRecordOf(row);
  }

  async list(query: { status?: EventStatus; limit: number; cursor?: string }): Promise<EventPage> {
    return this.events.list(query);
  }

  async startAttempt(event: CanonicalEvent, at: string) {
    // The record a delivery creates when it beat the ingest record: already enqueued, this its first attempt.
    const fresh = newEventRecord(event, 'queue', at, 'running');
    return this.startNew.immediate(newEventRowOf({ ...fresh, enqueued: true, attempts: 1 }));
  }

  async addStep(eventId: string, step: StepRecord) {
    this.changed(eventId, this.appendStep.run({ eventId, step: JSON.stringify(boundedStep(step)) }));
  }

  async finish(
    eventId: string,
    result: { status: TerminalStatus; at: string; error?: string; note?: string },
  ) {
    this.finishNow(eventId, result);
  }

  /** finish without a promise: StateStore.recordSuccess runs it inside its transaction. */
  finishNow(eventId: string, result: { status: TerminalStatus; at: string; error?: string; note?: string }) {
    const finished = this.setFinished.run({
      eventId,
      status: result.status,
      at: result.at,
      error: result.error ? bounded(result.error, MAX_EVENT_TEXT_LENGTH) : null,
      note: result.note ? bounded(result.note, MAX_EVENT_TEXT_LENGTH) : null,
      expiresAtMs: expiresAtMsFor(this.retention),
    });
    this.changed(eventId, finished);
  }

  async markDeadLettered(eventId: string, messageId: string) {
    this.changed(eventId, this.setDeadLettered.run({ eventId, messageId }));
  }

  async hold(eventId: string, result: { at: string; reason: string }) {
    const reason = bounded(result.reason, MAX_EVENT_TEXT_LENGTH);
    this.changed(eventId, this.setHeld.run({ eventId, at: result.at, reason }));
  }

  async requeue(eventId: string, result: { at: string; error: string }) {
    const requeued = this.setRequeued.run({
      eventId,
      at: result.at,
      error: bounded(result.error, MAX_EVENT_TEXT_LENGTH),
    });
    this.changed(eventId, requeued);
  }

  /** A new record is answered as built, not read back: on the ingest hot path that saves a read per event. */
  private insertOrRead(record: EventRecord): { created: boolean; record: EventRecord } {
    if (this.insertIfNew.run(newEventRowOf(record)).changes === 1) return { created: true, record };
    return { created: false, record: this.recordOf(record.eventId) };
  }

  private recordOf(eventId: string): EventRecord {
    const row = this.read.get(eventId);
    // Inside the transaction that wrote it: only a purge deletes events, and it waits for the write lock.
    if (!row) throw new Error(`event ${eventId} disappeared while being written`);
    return eventRecordOf(row);
  }

  /** A transition of an event that must exist: no row changed means there is none. */
  private changed(eventId: string, result: Database.RunResult) {
    if (result.changes === 0) throw new Error(`no event ${eventId} in the store`);
  }
}
