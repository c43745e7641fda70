import type { ConvergenceDeps } from '../engine/converge-event';
import type { Deadline } from '../engine/event-run';
import {
  type EventMessage,
  handleEventMessage,
  type MessageBudget,
  type MessageVerdict,
} from '../engine/handle-event-message';
import { COMPLETED_STATUSES, type Log, type StateStore, silentLog } from '../engine/ports';
import { eventIdOf } from './event-queue';

/**
 * What the consumer does with a message it received, whatever the queue: SQS on AWS (functions/lambda/
 * process-record.ts), the SQLite queue locally (local/worker-pool.ts). `M` is the queue's own message.
 */
export interface ConsumerQueue<M> {
  /** The message as the engine reads it: its id, body and how often the queue has handed it out. */
  deliveryOf(message: M): Omit<EventMessage, 'deadline'>;
  /** The event is done: the message leaves the queue and its group moves on. */
  delete(message: M): Promise<void>;
  /** A permanent failure: into the dead-letter queue with its reason; the group moves on. */
  deadLetter(message: M, reason: string): Promise<void>;
  /** A transient failure: the message comes back after `delayMs`, and its group waits with it (FIFO). */
  retryLater(message: M, delayMs: number): Promise<void>;
}

export type ConsumerDeps = ConvergenceDeps & MessageBudget;

/** What was done with a message: the engine's verdict, applied; or nothing to do, it was dead-lettered before. */
export type Consumed = MessageVerdict | { action: 'already-dead-lettered' };

/**
 * Runs one received message through the engine (handleEventMessage) and applies its verdict to the queue:
 * the one consumer of both runtimes, as Powertools batch's BasePartialProcessor is the one skeleton of its
 * processors. What differs stays with each runtime: how records of one message group wait for each other
 * (the SQS FIFO rule, functions/lambda/message-groups.ts) and how a message whose handling threw comes back.
 * Errors are logged and thrown on, to that runtime.
 */
export async function consumeMessage<M>(
  message: M,
  queue: ConsumerQueue<M>,
  deps: ConsumerDeps,
  delivery: { deadline?: Deadline } = {},
): Promise<Consumed> {
  const received = queue.deliveryOf(message);
  const eventId = eventIdOf(received.body);
  const log = deps.log ?? silentLog;
  try {
    if (eventId && received.receiveCount > 1) {
      // The same message again after it was copied to the dead-letter queue (its worker stopped before the
      // queue deleted it): done already, and a second copy would be a second dead letter.
      const known = await deps.store.events.get(eventId);
      if (known?.deadLetteredBy === received.messageId) {
        await queue.delete(message);
        log.info('event already dead-lettered by this message; deleted', { eventId });
        return { action: 'already-dead-lettered' };
      }
    }
    const verdict = await handleEventMessage({ ...received, ...delivery }, deps);
    await apply(verdict, { message, queue, eventId, messageId: received.messageId, store: deps.store, log });
    return verdict;
  } catch (error) {
    log.error('handling an event failed; it will be retried', {
      eventId,
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
}

async function apply<M>(
  verdict: MessageVerdict,
  to: {
    message: M;
    queue: ConsumerQueue<M>;
    eventId: string | undefined;
    messageId: string;
    store: StateStore;
    log: Log;
  },
): Promise<void> {
  const { message, queue, eventId, log } = to;
  switch (verdict.action) {
    case 'delete':
      await queue.delete(message);
      log.info('event done', { eventId, status: verdict.outcome.status });
      return;
    case 'retry':
      await queue.retryLater(message, verdict.delayMs);
      log.info('event retried later', { eventId, delayMs: verdict.delayMs, reason: verdict.reason });
      return;
    case 'dead-letter':
      // Moved at once, so that a permanent failure does not burn the remaining deliveries first.
      await queue.deadLetter(message, verdict.reason);
      if (eventId) await to.store.events.markDeadLettered(eventId, to.messageId);
      log.warn('event dead-lettered', { eventId, reason: verdict.reason });
      return;
  }
}

/**
 * A message the queue gave up on by itself (its delivery budget spent without an outcome: the worker kept
 * crashing or timing out): its event is failed with the queue's reason, unless it completed. On AWS the
 * dead-letter sweep does this for the messages SQS moves (functions/lambda/dead-letter-sweep.ts).
 */
export async function failBuriedEvent(
  letter: { eventId: string; reason: string },
  deps: { store: StateStore; log?: Log; now?: () => number },
): Promise<void> {
  try {
    const record = await deps.store.events.get(letter.eventId);
    if (record && !COMPLETED_STATUSES.has(record.status)) {
      await deps.store.events.finish(letter.eventId, {
        status: 'failed',
        at: new Date((deps.now ?? Date.now)()).toISOString(),
        error: letter.reason,
      });
    }
  } catch (error) {
    (deps.log ?? silentLog).error('recording a dead letter failed', {
      eventId: letter.eventId,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
