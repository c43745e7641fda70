import { parseCanonicalEvent } from '../events/canonical-event';
import { describeIssue } from '../events/validation-issues';
import { type ConvergenceDeps, convergeEvent, type EventOutcome } from './converge-event';
import type { Deadline } from './event-run';
import { COMPLETED_STATUSES } from './ports';

/** One delivery from the queue, whatever the queue: SQS on AWS, the embedded queue locally. */
export type EventMessage = { messageId: string; body: string; receiveCount: number; deadline?: Deadline };

export type MessageBudget = {
  /** Real attempts (deliveries that ran the event, as the store counts them) before a transient failure is final. */
  maxAttempts: number;
  /**
   * The queue's own limit, if it has one (SQS's redrive maxReceiveCount): receives also count deliveries
   * that never ran the event (held behind a failing one of the same person, or a worker that crashed). On
   * the last receive the event is failed and dead-lettered at once, before the queue moves it without a
   * reason and leaves its record open.
   */
  maxReceiveCount?: number;
};

/** What the queue adapter must do with the message. */
export type MessageVerdict =
  | { action: 'delete'; outcome: EventOutcome }
  | { action: 'retry'; delayMs: number; reason: string }
  | { action: 'dead-letter'; reason: string };

/**
 * Converges the event in a message and tells the queue what to do with it. Permanent failures go to the
 * dead-letter queue at once instead of burning deliveries; transient ones come back after their delay
 * until the attempt budget is spent, and the last one is recorded as failed so no event stays open.
 */
export async function handleEventMessage(
  message: EventMessage,
  deps: ConvergenceDeps & MessageBudget,
): Promise<MessageVerdict> {
  let body: unknown;
  try {
    body = JSON.parse(message.body);
  } catch (error) {
    return {
      action: 'dead-letter',
      reason: `message ${message.messageId} is not JSON: ${(error as Error).message}`,
    };
  }
  const parsed = parseCanonicalEvent(body);
  if (!parsed.ok) {
    return {
      action: 'dead-letter',
      reason: `message ${message.messageId} is not a valid event: ${parsed.issues.map(describeIssue).join('; ')}`,
    };
  }
  const at = () => new Date((deps.now ?? Date.now)()).toISOString();
  if (deps.maxReceiveCount !== undefined && message.receiveCount >= deps.maxReceiveCount) {
    const lastError = (await deps.store.events.get(parsed.event.id))?.error;
    // Through startAttempt, which also makes the record of an event that reached the queue some other way.
    const record = await deps.store.events.startAttempt(parsed.event, at());
    if (record.status === 'cancelled') {
      return { action: 'delete', outcome: { status: 'cancelled', note: record.note ?? 'cancelled' } };
    }
    if (COMPLETED_STATUSES.has(record.status)) {
      return {
        action: 'delete',
        outcome: { status: 'succeeded', replayed: true, ...(record.note ? { note: record.note } : {}) },
      };
    }
    const reason = `gave up after ${message.receiveCount} deliveries, the queue's limit (${record.attempts - 1} attempts ran); last error: ${lastError ?? 'none recorded (the worker may have crashed)'}`;
    await deps.store.events.finish(parsed.event.id, { status: 'failed', at: at(), error: reason });
    return { action: 'dead-letter', reason };
  }
  const outcome = await convergeEvent(parsed.event, deps, {
    maxAttempts: deps.maxAttempts,
    ...(message.deadline ? { deadline: message.deadline } : {}),
  });
  switch (outcome.status) {
    case 'succeeded':
    case 'superseded':
    case 'cancelled':
    // Held: the hold is in the store, and a release enqueues the event again.
    case 'held':
      return { action: 'delete', outcome };
    case 'failed':
      return { action: 'dead-letter', reason: outcome.reason };
    case 'retry': {
      if (outcome.attempts < deps.maxAttempts) {
        return { action: 'retry', delayMs: outcome.retryAfterMs, reason: outcome.reason };
      }
      const reason = `gave up after ${outcome.attempts} attempts; last error: ${outcome.reason}`;
      await deps.store.events.finish(parsed.event.id, { status: 'failed', at: at(), error: reason });
      return { action: 'dead-letter', reason };
    }
  }
}
