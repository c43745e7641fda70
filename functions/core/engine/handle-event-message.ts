import { parseCanonicalEvent } from '../events/canonical-event';
import { describeIssue } from '../events/validation-issues';
import { type ConvergenceDeps, convergeEvent, type EventOutcome } from './converge-event';

/** One delivery from the queue, whatever the queue: SQS on AWS, the embedded queue locally. */
export type EventMessage = { messageId: string; body: string; receiveCount: number };

/** What the queue adapter must do with the message. */
export type MessageVerdict =
  | { action: 'delete'; outcome: EventOutcome }
  | { action: 'retry'; delayMs: number; reason: string }
  | { action: 'dead-letter'; reason: string };

/**
 * Converges the event in a message and tells the queue what to do with it. Permanent failures go to the
 * dead-letter queue at once instead of burning deliveries; transient ones come back after their delay
 * until the delivery budget is spent, and the last one is recorded as failed so no event stays open.
 */
export async function handleEventMessage(
  message: EventMessage,
  deps: ConvergenceDeps & { maxReceiveCount: number },
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
  const outcome = await convergeEvent(parsed.event, deps);
  switch (outcome.status) {
    case 'succeeded':
    case 'superseded':
      return { action: 'delete', outcome };
    case 'failed':
      return { action: 'dead-letter', reason: outcome.reason };
    case 'retry': {
      if (message.receiveCount < deps.maxReceiveCount) {
        return { action: 'retry', delayMs: outcome.retryAfterMs, reason: outcome.reason };
      }
      const reason = `gave up after ${message.receiveCount} deliveries; last error: ${outcome.reason}`;
      await deps.store.events.finish(parsed.event.id, {
        status: 'failed',
        at: new Date((deps.now ?? Date.now)()).toISOString(),
        error: reason,
      });
      return { action: 'dead-letter', reason };
    }
  }
}
