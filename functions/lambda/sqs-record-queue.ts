import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { ConsumerQueue } from '../core/queue/consume-message';

/** The queue URL of an SQS record's source, from its ARN (arn:aws:sqs:<region>:<account>:<name>). */
export function queueUrlOf(record: SQSRecord): string {
  const [, partition, , region, account, name] = record.eventSourceARN.split(':');
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}

/** SQS allows a visibility timeout of at most 12 hours. */
export const visibilitySecondsFor = (delayMs: number): number =>
  Math.min(43_200, Math.max(0, Math.ceil(delayMs / 1000)));

/** The consumer's queue operations on the records of an SQS FIFO batch (core/queue/consume-message.ts). */
export class SqsRecordQueue implements ConsumerQueue<SQSRecord> {
  constructor(
    private readonly sqs: SQSClient,
    private readonly urls: {
      dlqUrl: string;
      /**
       * The event queue's URL, from the stack. Absent, it is rebuilt from a record's ARN, which names the
       * public endpoint: wrong wherever the SDK is pointed elsewhere (a VPC endpoint, the emulator).
       */
      queueUrl?: string;
    },
  ) {}

  deliveryOf(record: SQSRecord) {
    return {
      messageId: record.messageId,
      body: record.body,
      receiveCount: Number(record.attributes.ApproximateReceiveCount),
    };
  }

  /** Nothing to send: the event source mapping deletes every record the batch response does not name. */
  async delete(): Promise<void> {}

  /** Copied to the dead-letter queue by hand; the batch then deletes the original (it is no failure). */
  async deadLetter(record: SQSRecord, reason: string): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.urls.dlqUrl,
        MessageBody: record.body,
        MessageGroupId: record.attributes.MessageGroupId,
        MessageDeduplicationId: `${record.attributes.MessageDeduplicationId ?? record.messageId}#dlq`.slice(
          0,
          128,
        ),
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: reason.slice(0, 4_000) },
          receiveCount: { DataType: 'Number', StringValue: record.attributes.ApproximateReceiveCount },
        },
      }),
    );
  }

  /**
   * Visible again after `delayMs`; the record must also be reported as a batch item failure, or SQS deletes
   * it. Also how a record held back behind a failed one of its person (or not started for lack of time)
   * comes back when that one does, instead of after the queue's whole visibility timeout. FIFO keeps the
   * order: SQS hands out no message of a group while an earlier one is in flight.
   */
  async retryLater(record: SQSRecord, delayMs: number): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.urls.queueUrl ?? queueUrlOf(record),
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: visibilitySecondsFor(delayMs),
      }),
    );
  }
}
