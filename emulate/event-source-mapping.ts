import { createHash } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import type { EmulatedStack } from './cloudformation';
import type { Emit, InvokeResult } from './invoke';

/** An SQS event source mapping of the template. */
export type SqsEventSource = {
  logicalId: string;
  functionLogicalId: string;
  queueArn: string;
  queueUrl: string;
  batchSize: number;
  /** ScalingConfig.MaximumConcurrency: invocations in flight at most. */
  maxConcurrency: number;
  reportBatchItemFailures: boolean;
};

/** Lambda's pollers long-poll for 20 seconds. */
const WAIT_SECONDS = 20;
/** Without ScalingConfig, Lambda scales an SQS mapping to many pollers; the emulator to this many. */
const DEFAULT_CONCURRENCY = 5;

/** The template's AWS::Lambda::EventSourceMapping resources on SQS queues. */
export function eventSourcesOf(
  stack: EmulatedStack,
  queueUrlOfArn: (arn: string) => string,
): SqsEventSource[] {
  return stack.resourcesOfType('AWS::Lambda::EventSourceMapping').map(([logicalId, properties]) => {
    const functionRef = (properties.FunctionName as { Ref?: string }).Ref;
    if (!functionRef) throw new Error(`the event source mapping ${logicalId} must name its function by Ref`);
    const props = stack.resolve(properties) as Record<string, unknown>;
    const queueArn = String(props.EventSourceArn);
    return {
      logicalId,
      functionLogicalId: functionRef,
      queueArn,
      queueUrl: queueUrlOfArn(queueArn),
      batchSize: Number(props.BatchSize ?? 10),
      maxConcurrency: Number(
        (props.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency ??
          DEFAULT_CONCURRENCY,
      ),
      reportBatchItemFailures: ((props.FunctionResponseTypes ?? []) as string[]).includes(
        'ReportBatchItemFailures',
      ),
    };
  });
}

/**
 * Lambda's SQS poller for one mapping: up to MaximumConcurrency loops, each receiving a batch (up to
 * BatchSize, long polling), invoking the function with it and deleting what succeeded. FIFO order is the
 * queue's: a message group with a message in flight hands out nothing more, so each group has at most one
 * batch in flight. With ReportBatchItemFailures the items the function names stay on the queue (visible
 * again after their visibility timeout, or whatever the function set) and the rest are deleted; a function
 * error, timeout or crash deletes nothing, and the whole batch comes back after its visibility timeout.
 */
export class SqsPoller {
  private readonly aborts = new Set<AbortController>();
  private loops: Promise<void>[] = [];
  private running = false;

  constructor(
    private readonly source: SqsEventSource,
    private readonly sqs: SQSClient,
    private readonly invoke: (event: SQSEvent) => Promise<InvokeResult>,
    private readonly region: string,
    private readonly emit: Emit,
  ) {}

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.source.maxConcurrency }, () => this.loop());
  }

  /** Stops receiving; batches being processed finish (the function's own close bounds how long). */
  async stop(): Promise<void> {
    this.running = false;
    for (const abort of this.aborts) abort.abort();
    await Promise.all(this.loops);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const abort = new AbortController();
      this.aborts.add(abort);
      let messages: Message[];
      try {
        const answer = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.source.queueUrl,
            MaxNumberOfMessages: this.source.batchSize,
            WaitTimeSeconds: WAIT_SECONDS,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        messages = answer.Messages ?? [];
      } catch (error) {
        if (!this.running) break;
        this.emit('WARN', 'the event source mapping could not receive; retrying', { error: String(error) });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        continue;
      } finally {
        this.aborts.delete(abort);
      }
      if (messages.length === 0) continue;
      try {
        await this.deliver(messages);
      } catch (error) {
        // What was not deleted comes back after its visibility timeout, as after a poller's failure on AWS.
        this.emit('WARN', 'the event source mapping could not finish a batch', { error: String(error) });
      }
    }
  }

  private async deliver(messages: Message[]): Promise<void> {
    const records = messages.map((message) => this.recordOf(message));
    const result = await this.invoke({ Records: records });
    if (!result.ok) {
      this.emit('WARN', 'the function failed: its batch comes back after the visibility timeout', {
        mapping: this.source.logicalId,
        messages: messages.length,
        errorType: result.errorType,
        errorMessage: result.errorMessage,
      });
    }
    const failed = this.failedItems(result, records);
    const done = messages.filter((message) => !failed.has(message.MessageId ?? ''));
    for (let start = 0; start < done.length; start += 10) {
      const page = done.slice(start, start + 10);
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.source.queueUrl,
          Entries: page.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
          })),
        }),
      );
    }
    this.emit('DEBUG', 'batch delivered', {
      mapping: this.source.logicalId,
      messages: messages.length,
      deleted: done.length,
      ...(result.ok ? {} : { errorType: result.errorType }),
    });
  }

  /** The message ids that go back to the queue: all on a function error, else those the response names. */
  private failedItems(result: InvokeResult, records: SQSRecord[]): Set<string> {
    const all = new Set(records.map((record) => record.messageId));
    if (!result.ok) return all;
    if (!this.source.reportBatchItemFailures) return new Set();
    const response = result.payload as { batchItemFailures?: { itemIdentifier?: unknown }[] } | null;
    // As Lambda: no response, or no list, is a complete success.
    if (response === null || typeof response !== 'object' || response.batchItemFailures == null)
      return new Set();
    const failures = Array.isArray(response.batchItemFailures) ? response.batchItemFailures : [];
    const ids = failures.map((failure) => failure?.itemIdentifier);
    // An identifier that is empty or not of this batch, or a list that is not one, fails the whole batch.
    if (
      !Array.isArray(response.batchItemFailures) ||
      ids.some((id) => typeof id !== 'string' || !all.has(id))
    ) {
      this.emit('WARN', 'the batch response names items not in the batch: the whole batch fails', {
        mapping: this.source.logicalId,
      });
      return all;
    }
    return new Set(ids as string[]);
  }

  private recordOf(message: Message): SQSRecord {
    const attributes = message.Attributes ?? {};
    return {
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
        SentTimestamp: attributes.SentTimestamp ?? '',
        SenderId: attributes.SenderId ?? '',
        ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? '',
        ...(attributes.SequenceNumber ? { SequenceNumber: attributes.SequenceNumber } : {}),
        ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
        ...(attributes.MessageDeduplicationId
          ? { MessageDeduplicationId: attributes.MessageDeduplicationId }
          : {}),
      },
      messageAttributes: lambdaAttributes(message.MessageAttributes ?? {}),
      md5OfBody:
        message.MD5OfBody ??
        createHash('md5')
          .update(message.Body ?? '')
          .digest('hex'),
      ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
      eventSource: 'aws:sqs',
      eventSourceARN: this.source.queueArn,
      awsRegion: this.region,
    } as SQSRecord;
  }
}

/** SQS's message attributes as Lambda presents them: camel-cased, with the list fields always present. */
function lambdaAttributes(attributes: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  const converted: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes)) {
    converted[name] = {
      dataType: value.DataType ?? 'String',
      stringListValues: [],
      binaryListValues: [],
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined
        ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
        : {}),
    };
  }
  return converted;
}
