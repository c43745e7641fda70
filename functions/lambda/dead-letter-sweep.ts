import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type EventStore, isTerminal } from '../core/engine/ports';
import { eventIdOf } from '../core/queue/event-queue';

/** What one sweep found. */
export type SweepReport = { seen: number; reconciled: string[] };

/** The input the stack's schedule invokes the worker with. */
export const SWEEP_DEAD_LETTERS = 'sweep-dead-letters';

/** Receives of up to 10 per sweep: 1,000 letters, far more than a healthy queue ever holds. */
const MAX_PAGES = 100;
/** Long enough to page through the queue once; the letters are made visible again at the end. */
const PEEK_SECONDS = 60;

/**
 * Ends `failed` every event whose message SQS moved to the dead-letter queue by itself: after
 * `maxReceiveCount` deliveries that never reached the worker's handler or never finished (init crashes,
 * timeouts, DynamoDB out of reach), the worker had no chance to record the outcome, and the record would
 * stay `queued` or `running` for good. The worker's own dead letters carry a `reason` and their events are
 * failed already; those are left alone.
 *
 * Why a scheduled sweep, peeking: the letters must stay in the queue for `dlq list` and redrive, so nothing
 * may consume them, and SQS reports no move. The sweep does not mark the letter as handled (SQS may keep the
 * message id on a console redrive, and a redriven event must run again), so it only ever fails an event that
 * is still open.
 */
export async function sweepDeadLetters(
  sqs: SQSClient,
  dlqUrl: string,
  events: Pick<EventStore, 'get' | 'finish'>,
  now: () => Date = () => new Date(),
): Promise<SweepReport> {
  const peeked: Message[] = [];
  const reconciled: string[] = [];
  try {
    for (let page = 0; page < MAX_PAGES; page++) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: PEEK_SECONDS,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          MessageAttributeNames: ['reason'],
        }),
      );
      if (Messages.length === 0) break;
      peeked.push(...Messages);
      for (const message of Messages) {
        if (message.MessageAttributes?.reason) continue;
        const eventId = eventIdOf(message.Body);
        const record = eventId ? await events.get(eventId) : undefined;
        if (!eventId || !record || isTerminal(record.status)) continue;
        await events.finish(eventId, {
          status: 'failed',
          at: now().toISOString(),
          error:
            'SQS moved it to the dead-letter queue after its deliveries did not finish (the worker crashed, ' +
            'timed out or could not reach DynamoDB before recording an outcome); redrive it once the cause is fixed',
        });
        reconciled.push(eventId);
      }
    }
  } finally {
    // Visible again at once, for `dlq list` and redrive.
    for (let start = 0; start < peeked.length; start += 10) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: dlqUrl,
          Entries: peeked.slice(start, start + 10).map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
  }
  return { seen: peeked.length, reconciled };
}
