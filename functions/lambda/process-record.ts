import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { handleEventMessage, type MessageVerdict } from '../core/engine/handle-event-message';
import { redactEmails } from '../core/privacy/redact';
import { sqs } from './aws-clients';
import { metrics } from './observability';
import { queueUrlOf, visibilitySecondsFor } from './sqs-record';
import type { WorkerDeps } from './worker-deps';

/** Thrown to report the record as a batch item failure: it comes back after its delay, its group waits. */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
}

const METRIC_OF: Record<string, string> = {
  succeeded: 'EventSucceeded',
  superseded: 'EventSuperseded',
  failed: 'EventFailed',
  retry: 'EventRetried',
};

/** One SQS record through the engine; the verdict becomes SQS calls (DLQ, visibility) or a batch item failure. */
export async function processRecord(record: SQSRecord, deps: WorkerDeps): Promise<void> {
  const verdict = await handleEventMessage(
    {
      messageId: record.messageId,
      body: record.body,
      receiveCount: Number(record.attributes.ApproximateReceiveCount),
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
      return;
    case 'retry':
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrlOf(record),
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: visibilitySecondsFor(verdict.delayMs),
        }),
      );
      // The reason is in the event record and the log line; this error also reaches the Lambda runtime's
      // log and the trace when the whole batch fails, so its email is redacted like a log line's.
      throw new RetryLaterError(
        process.env.LOG_EMAILS === 'true' ? verdict.reason : redactEmails(verdict.reason),
      );
  }
}

function count(verdict: MessageVerdict): void {
  const outcome =
    verdict.action === 'delete' ? verdict.outcome.status : verdict.action === 'retry' ? 'retry' : 'failed';
  metrics.addMetric(METRIC_OF[outcome] ?? 'EventFailed', MetricUnit.Count, 1);
}
