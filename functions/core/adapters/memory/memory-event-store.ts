import { newEventRecord } from '../../engine/event-record';
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

/** EventStore in a Map: for unit tests and property tests. */
export class MemoryEventStore implements EventStore {
  private readonly records = new Map<string, EventRecord>();
  private nextSequence = 1;

  async reserveSequences(count: number) {
    const first = this.nextSequence;
    this.nextSequence += count;
    return first;
  }

  async accept(
    event: CanonicalEvent,
    meta: { source: string; at: string; sequence: number; dueAt?: string },
  ) {
    const existing = this.records.get(event.id);
    if (existing) return { created: false, record: structuredClone(existing) };
    const status = meta.dueAt === undefined ? 'queued' : 'scheduled';
    const record = newEventRecord(structuredClone(event), meta.source, meta.at, status, meta.sequence);
    if (meta.dueAt !== undefined) record.dueAt = meta.dueAt;
    this.records.set(event.id, record);
    return { created: true, record: structuredClone(record) };
  }

  async dueEvents(query: { now: string; limit: number }) {
    return this.scheduled((r) => (r.dueAt ?? '') <= query.now).slice(0, query.limit);
  }

  async scheduledOf(personKey: string) {
    return this.scheduled((r) => r.employeeKey === personKey);
  }

  async release(eventId: string, at: string) {
    const record = this.records.get(eventId);
    if (record?.status !== 'scheduled') return false;
    Object.assign(record, { status: 'queued', enqueued: true, updatedAt: at });
    return true;
  }

  async cancel(eventId: string, result: { at: string; note: string }) {
    const record = this.records.get(eventId);
    if (!record || !CANCELLABLE_STATUSES.has(record.status)) {
      return { cancelled: false, record: record && structuredClone(record) };
    }
    Object.assign(record, { status: 'cancelled', updatedAt: result.at, note: result.note });
    return { cancelled: true, record: structuredClone(record) };
  }

  private scheduled(matches: (record: EventRecord) => boolean): EventRecord[] {
    return [...this.records.values()]
      .filter((r) => r.status === 'scheduled' && matches(r))
      .sort((a, b) => (a.dueAt ?? '').localeCompare(b.dueAt ?? '') || (a.sequence ?? 0) - (b.sequence ?? 0))
      .map((r) => structuredClone(r));
  }

  async markEnqueued(eventId: string, at: string) {
    this.update(eventId, (r) => {
      r.enqueued = true;
      r.updatedAt = at;
    });
  }

  async get(eventId: string) {
    const record = this.records.get(eventId);
    return record && structuredClone(record);
  }

  async list(query: { status?: EventStatus; limit: number; cursor?: string }): Promise<EventPage> {
    const all = [...this.records.values()]
      .filter((r) => query.status === undefined || r.status === query.status)
      .sort((a, b) => a.eventId.localeCompare(b.eventId));
    const start = query.cursor ? all.findIndex((r) => r.eventId > (query.cursor ?? '')) : 0;
    const records = start < 0 ? [] : all.slice(start, start + query.limit);
    const last = records.at(-1);
    return {
      records: records.map((r) => structuredClone(r)),
      ...(last && start + query.limit < all.length ? { cursor: last.eventId } : {}),
    };
  }

  async startAttempt(event: CanonicalEvent, at: string) {
    let record = this.records.get(event.id);
    if (!record) {
      record = newEventRecord(structuredClone(event), 'queue', at, 'running');
      record.enqueued = true;
      this.records.set(event.id, record);
    }
    if (!COMPLETED_STATUSES.has(record.status)) {
      record.status = 'running';
      record.attempts += 1;
      record.updatedAt = at;
      delete record.error;
    }
    return structuredClone(record);
  }

  async addStep(eventId: string, step: StepRecord) {
    this.update(eventId, (r) => {
      r.steps.push(structuredClone(step));
    });
  }

  async finish(
    eventId: string,
    result: { status: TerminalStatus; at: string; error?: string; note?: string },
  ) {
    this.update(eventId, (r) => {
      r.status = result.status;
      r.updatedAt = result.at;
      if (result.error) r.error = result.error;
      if (result.note) r.note = result.note;
    });
  }

  async markDeadLettered(eventId: string, messageId: string) {
    this.update(eventId, (r) => {
      r.deadLetteredBy = messageId;
    });
  }

  async hold(eventId: string, result: { at: string; reason: string }) {
    this.update(eventId, (r) => {
      r.status = 'held';
      r.updatedAt = result.at;
      r.error = result.reason;
    });
  }

  async requeue(eventId: string, result: { at: string; error: string }) {
    this.update(eventId, (r) => {
      r.status = 'queued';
      r.updatedAt = result.at;
      r.error = result.error;
    });
  }

  /** The records `matches` accepts, for StateStore.forget. */
  find(matches: (record: EventRecord) => boolean): EventRecord[] {
    return [...this.records.values()].filter(matches).map((r) => structuredClone(r));
  }

  /** Deletes records for good, for StateStore.forget. */
  delete(eventIds: readonly string[]): number {
    return eventIds.filter((id) => this.records.delete(id)).length;
  }

  private update(eventId: string, change: (record: EventRecord) => void) {
    const record = this.records.get(eventId);
    if (!record) throw new Error(`no event ${eventId} in the store`);
    change(record);
  }
}
