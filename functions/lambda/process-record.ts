import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { Deadline } from '../core/engine/deadline';
import { handleEventMessage, type MessageVerdict } from '../core/engine/handle-event-message';
import { redactEmails } from '../core/privacy/redact';
import { sqs } from './aws-clients';
import { metrics } from './observability';
import { eventIdOf, queueUrlOf, visibilitySecondsFor } from './sqs-record';
import type { WorkerDeps } from './worker-deps';

/** Thrown to report the record as a batch item failure: it comes back after its delay, its group waits. */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

/** How long the rest of a failed record's group waits: as long as the record itself. */
export const retryDelayOf = (error: unknown): number =>
  error instanceof RetryLaterError ? error.delayMs : 0;

/**
 * A record held back behind a failed one of its person (or not started for lack of time) comes back when
 * that one does, instead of after the queue's whole visibility timeout. FIFO keeps the order: SQS hands out
 * no message of a group while an earlier one is in flight.
 */
export async function holdBack(record: SQSRecord, delayMs: number, queueUrl?: string): Promise<void> {
  await sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrl ?? queueUrlOf(record),
      ReceiptHandle: record.receiptHandle,
      VisibilityTimeout: visibilitySecondsFor(delayMs),
    }),
  );
}

const METRIC_OF: Record<string, string> = {
  succeeded: 'EventSucceeded',
  superseded: 'EventSuperseded',
  failed: 'EventFailed',
  retry: 'EventRetried',
};

/** One SQS record through the engine; the verdict becomes SQS calls (DLQ, visibility) or a batch item failure. */
export async function processRecord(record: SQSRecord, deps: WorkerDeps, deadline?: Deadline): Promise<void> {
  const eventId = eventIdOf(record.body);
  if (eventId && Number(record.attributes.ApproximateReceiveCount) > 1) {
    // The same message again after it was copied to the dead-letter queue (its worker stopped before SQS
    // deleted it): done already, and a second copy would be a second dead letter.
    const known = await deps.store.events.get(eventId);
    if (known?.deadLetteredBy === record.messageId) return;
  }
  const verdict = await handleEventMessage(
    {
      messageId: record.messageId,
      body: record.body,
      receiveCount: Number(record.attributes.ApproximateReceiveCount),
      ...(deadline ? { deadline } : {}),
    },
    deps,
  );
  count(verdict);
  switch (verdict.action) {
    case 'delete':
      return;
    case 'dead-letter':
      // Moved by hand so a permanent failure does not burn the remaining deliveries first.
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: deps.dlqUrl,
          MessageBody: record.body,
          MessageGroupId: record.attributes.MessageGroupId,
          MessageDeduplicationId: `${record.attributes.MessageDeduplicationId ?? record.messageId}#dlq`.slice(
            0,
            128,
          ),
          MessageAttributes: {
            reason: { DataType: 'String', StringValue: verdict.reason.slice(0, 4_000) },
            receiveCount: { DataType: 'Number', StringValue: record.attributes.ApproximateReceiveCount },
          },
        }),
      );
      if (eventId) await deps.store.events.markDeadLettered(eventId, record.messageId);
      return;
    case 'retry':
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: deps.queueUrl ?? queueUrlOf(record),
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: visibilitySecondsFor(verdict.delayMs),
        }),
      );
      // The reason is in the event record and the log line; this error also reaches the Lambda runtime's
      // log and the trace when the whole batch fails, so its email is redacted like a log line's.
      throw new RetryLaterError(
        process.env.LOG_EMAILS === 'true' ? verdict.reason : redactEmails(verdict.reason),
        verdict.delayMs,
      );
  }
}

function count(verdict: MessageVerdict): void {
  const outcome =
    verdict.action === 'delete' ? verdict.outcome.status : verdict.action === 'retry' ? 'retry' : 'failed';
  metrics.addMetric(METRIC_OF[outcome] ?? 'EventFailed', MetricUnit.Count, 1);
}
