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
import type { Retention } from '../../privacy/retention';
import { dueEvents, dueIndexAttributes, scheduledEventsOf } from './due-index';
import { eventRecordOf, STEPS_APPENDED, stepHistoryOf, storable, updateExpression } from './event-item';
import { listEvents } from './list-events';
import { type Item, StateStoreError, type StateTable } from './state-table';
import {
  DUE_INDEX_PARTITION_KEY,
  eventItemKey,
  expiresAtFor,
  sequenceItemKey,
  TTL_ATTRIBUTE,
} from './table-schema';

/** Rewrites of a full step list that may lose to a concurrent append before addStep gives up. */
const MAX_STEP_REWRITES = 5;

/**
 * EventStore on the state table: one item per event, its steps inside it. Every change is a conditional
 * write, so a transition never lands on an event that is not there, and never undoes a completed one.
 */
export class DynamoDbEventStore implements EventStore {
  constructor(
    private readonly table: StateTable,
    private readonly retention: Retention,
  ) {}

  /** One counter item: a request reserves its whole range in one write, however many events it carries. */
  async reserveSequences(count: number) {
    const result = await this.table.update({
      Key: sequenceItemKey,
      UpdateExpression: 'ADD #last :count',
      ExpressionAttributeNames: { '#last': 'last' },
      ExpressionAttributeValues: { ':count': count },
      ReturnValues: 'UPDATED_NEW',
    });
    const last = Number(result.written ? result.attributes?.last : Number.NaN);
    if (!Number.isSafeInteger(last))
      throw new StateStoreError('the acceptance sequence could not be reserved');
    return last - count + 1;
  }

  async accept(
    event: CanonicalEvent,
    meta: { source: string; at: string; sequence: number; dueAt?: string },
  ) {
    const status = meta.dueAt === undefined ? 'queued' : 'scheduled';
    const record = newEventRecord(storable(event), meta.source, meta.at, status, meta.sequence);
    if (meta.dueAt !== undefined) record.dueAt = meta.dueAt;
    const result = await this.table.put({
      Item: {
        ...eventItemKey(event.id),
        ...record,
        ...(meta.dueAt === undefined ? {} : dueIndexAttributes(meta.dueAt, meta.sequence)),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    if (result.written) return { created: true, record };
    return { created: false, record: this.existing(event.id, result.current) };
  }

  dueEvents(query: { now: string; limit: number }) {
    return dueEvents(this.table, query.now, query.limit);
  }

  scheduledOf(personKey: string) {
    return scheduledEventsOf(this.table, personKey);
  }

  /** Out of the due index in the same write that makes it `queued`. */
  async release(eventId: string, at: string) {
    const result = await this.table.update(
      {
        Key: eventItemKey(eventId),
        UpdateExpression: 'SET #status = :queued, #enqueued = :true, #updatedAt = :at REMOVE #dueQueue',
        ConditionExpression: '#status = :scheduled',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#enqueued': 'enqueued',
          '#updatedAt': 'updatedAt',
          '#dueQueue': DUE_INDEX_PARTITION_KEY,
        },
        ExpressionAttributeValues: {
          ':queued': 'queued',
          ':true': true,
          ':at': at,
          ':scheduled': 'scheduled',
        },
      },
      'ignore',
    );
    return result.written;
  }

  async cancel(eventId: string, result: { at: string; note: string }) {
    const cancellable = Object.fromEntries([...CANCELLABLE_STATUSES].map((s, i) => [`:from${i}`, s]));
    const written = await this.table.update({
      Key: eventItemKey(eventId),
      UpdateExpression:
        'SET #status = :cancelled, #updatedAt = :at, #note = :note, #expiresAt = :expiresAt REMOVE #dueQueue',
      ConditionExpression: `#status IN (${Object.keys(cancellable).join(', ')})`,
      ExpressionAttributeNames: {
        '#status': 'status',
        '#updatedAt': 'updatedAt',
        '#note': 'note',
        '#expiresAt': TTL_ATTRIBUTE,
        '#dueQueue': DUE_INDEX_PARTITION_KEY,
      },
      ExpressionAttributeValues: {
        ...cancellable,
        ':cancelled': 'cancelled',
        ':at': result.at,
        ':note': bounded(result.note, MAX_EVENT_TEXT_LENGTH),
        ':expiresAt': expiresAtFor(this.retention),
      },
      ReturnValues: 'ALL_NEW',
    });
    if (written.written) return { cancelled: true, record: eventRecordOf(written.attributes ?? {}) };
    return { cancelled: false, record: written.current && eventRecordOf(written.current) };
  }

  async markEnqueued(eventId: string, at: string) {
    await this.change(eventId, { enqueued: true, updatedAt: at });
  }

  async get(eventId: string) {
    const item = await this.table.get(eventItemKey(eventId));
    return item && eventRecordOf(item);
  }

  list(query: { status?: EventStatus; limit: number; cursor?: string }): Promise<EventPage> {
    return listEvents(this.table, query);
  }

  /**
   * One write whether or not the event is known: each attribute of a fresh record is set only where it is
   * missing (`if_not_exists`), so a delivery that beat the ingest record, or one that raced another
   * delivery, still ends with one record and every attempt counted.
   */
  async startAttempt(event: CanonicalEvent, at: string) {
    const fresh = newEventRecord(storable(event), 'queue', at, 'running');
    fresh.enqueued = true;
    const { status: _status, attempts: _attempts, updatedAt: _updatedAt, ...initial } = fresh;
    const kept = Object.keys(initial);
    const completed = Object.fromEntries([...COMPLETED_STATUSES].map((s, i) => [`:completed${i}`, s]));
    const result = await this.table.update({
      Key: eventItemKey(event.id),
      UpdateExpression: [
        'SET #status = :running, #attempts = if_not_exists(#attempts, :zero) + :one, #updatedAt = :at, ',
        kept.map((a) => `#${a} = if_not_exists(#${a}, :${a})`).join(', '),
        // A reopened `failed` event is live again: it must not expire under its next delivery. A delivery
        // of a scheduled event (its release was cut short) takes it out of the due index.
        ' REMOVE #error, #expiresAt, #dueQueue',
      ].join(''),
      ConditionExpression: `attribute_not_exists(pk) OR NOT (#status IN (${Object.keys(completed).join(', ')}))`,
      ExpressionAttributeNames: {
        ...Object.fromEntries([...kept, 'status', 'attempts', 'updatedAt', 'error'].map((a) => [`#${a}`, a])),
        '#expiresAt': TTL_ATTRIBUTE,
        '#dueQueue': DUE_INDEX_PARTITION_KEY,
      },
      ExpressionAttributeValues: {
        ...Object.fromEntries(Object.entries(initial).map(([a, value]) => [`:${a}`, value])),
        ...completed,
        ':running': 'running',
        ':zero': 0,
        ':one': 1,
        ':at': at,
      },
      ReturnValues: 'ALL_NEW',
    });
    // Written: the record as it now is. Not written: the event was completed already and stays as it was.
    return result.written ? eventRecordOf(result.attributes ?? {}) : this.existing(event.id, result.current);
  }

  /**
   * Appends with list_append while fewer than MAX_STORED_STEPS are kept. At the cap the list is rewritten
   * without its oldest entry, conditioned on the append counter so a concurrent append is never lost.
   */
  async addStep(eventId: string, step: StepRecord) {
    const stored = storable(boundedStep(step));
    const appended = await this.table.update({
      Key: eventItemKey(eventId),
      UpdateExpression: 'SET #steps = list_append(#steps, :step) ADD #stepsAppended :one',
      ConditionExpression: 'attribute_exists(pk) AND size(#steps) < :cap',
      ExpressionAttributeNames: { '#steps': 'steps', '#stepsAppended': STEPS_APPENDED },
      ExpressionAttributeValues: { ':step': [stored], ':one': 1, ':cap': MAX_STORED_STEPS },
    });
    let current = appended.written ? undefined : appended.current;
    if (!appended.written && !current) throw noEvent(eventId);
    for (let rewrite = 1; current; rewrite++) {
      if (rewrite > MAX_STEP_REWRITES) {
        throw new StateStoreError(`steps of event ${eventId} kept changing while being trimmed`);
      }
      current = await this.rewriteSteps(eventId, current, stored);
    }
  }

  async finish(
    eventId: string,
    result: { status: TerminalStatus; at: string; error?: string; note?: string },
  ) {
    await this.change(eventId, {
      status: result.status,
      updatedAt: result.at,
      [TTL_ATTRIBUTE]: expiresAtFor(this.retention),
      ...(result.error ? { error: bounded(result.error, MAX_EVENT_TEXT_LENGTH) } : {}),
      ...(result.note ? { note: bounded(result.note, MAX_EVENT_TEXT_LENGTH) } : {}),
    });
  }

  async markDeadLettered(eventId: string, messageId: string) {
    await this.change(eventId, { deadLetteredBy: messageId });
  }

  /** Held is live: no expiry while it waits for an operator. */
  async hold(eventId: string, result: { at: string; reason: string }) {
    await this.change(
      eventId,
      { status: 'held', updatedAt: result.at, error: bounded(result.reason, MAX_EVENT_TEXT_LENGTH) },
      [TTL_ATTRIBUTE],
    );
  }

  async requeue(eventId: string, result: { at: string; error: string }) {
    await this.change(
      eventId,
      { status: 'queued', updatedAt: result.at, error: bounded(result.error, MAX_EVENT_TEXT_LENGTH) },
      [TTL_ATTRIBUTE],
    );
  }

  /** Replaces a full step list by its newest entries and the new step; the item as it stood if it lost. */
  private async rewriteSteps(eventId: string, current: Item, step: StepRecord): Promise<Item | undefined> {
    const { steps, stepsAppended } = stepHistoryOf(current);
    const result = await this.table.update({
      Key: eventItemKey(eventId),
      UpdateExpression: 'SET #steps = :steps ADD #stepsAppended :one',
      ConditionExpression: '#stepsAppended = :seen',
      ExpressionAttributeNames: { '#steps': 'steps', '#stepsAppended': STEPS_APPENDED },
      ExpressionAttributeValues: {
        ':steps': [...steps.slice(-(MAX_STORED_STEPS - 1)), step],
        ':one': 1,
        ':seen': stepsAppended,
      },
    });
    if (result.written) return undefined;
    if (!result.current) throw noEvent(eventId);
    return result.current;
  }

  /** Sets (and removes) attributes of an event that must exist. */
  private async change(eventId: string, set: Record<string, unknown>, remove: readonly string[] = []) {
    const result = await this.table.update(
      {
        Key: eventItemKey(eventId),
        ...updateExpression(set, remove),
        ConditionExpression: 'attribute_exists(pk)',
      },
      // Losing means there is no such event: nothing to fetch.
      'ignore',
    );
    if (!result.written) throw noEvent(eventId);
  }

  private existing(eventId: string, item: Item | undefined): EventRecord {
    // The condition failed on an item, which was gone by the time it was read: only TTL deletes events.
    if (!item) throw new StateStoreError(`event ${eventId} disappeared while being written`);
    return eventRecordOf(item);
  }
}

const noEvent = (eventId: string) => new Error(`no event ${eventId} in the store`);
