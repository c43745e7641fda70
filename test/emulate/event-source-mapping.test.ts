import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SqsEventSource, SqsPoller } from '../../emulate/event-source-mapping';
import type { InvokeResult } from '../../emulate/invoke';
import { type EmulatedSqs, startSqs } from '../../emulate/sqs';
import { waitFor } from '../support/runtime-process';

/*
 * The emulated SQS event source mapping on fauxqs, in front of a stand-in function: the records Lambda
 * hands a function, and what happens to each message after the invocation.
 */

let sqs: EmulatedSqs;
let queues = 0;

beforeAll(async () => {
  sqs = await startSqs('eu-west-1');
});

afterAll(async () => {
  await sqs?.close();
});

async function fifoQueue(visibilitySeconds: number): Promise<{ url: string; arn: string }> {
  const name = `esm-${++queues}.fifo`;
  const { QueueUrl } = await sqs.client.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        FifoQueue: 'true',
        ContentBasedDeduplication: 'false',
        VisibilityTimeout: String(visibilitySeconds),
      },
    }),
  );
  return { url: QueueUrl ?? '', arn: `arn:aws:sqs:eu-west-1:000000000000:${name}` };
}

async function counts(url: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await sqs.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages),
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

function poller(queue: { url: string; arn: string }, fn: (event: SQSEvent) => Partial<InvokeResult>) {
  const source: SqsEventSource = {
    logicalId: 'Mapping',
    functionLogicalId: 'Worker',
    queueArn: queue.arn,
    queueUrl: queue.url,
    batchSize: 10,
    maxConcurrency: 2,
    reportBatchItemFailures: true,
  };
  const events: SQSEvent[] = [];
  const instance = new SqsPoller(
    source,
    sqs.client,
    async (event) => {
      events.push(event);
      return { requestId: 'r', durationMs: 1, ...fn(event) } as InvokeResult;
    },
    'eu-west-1',
    () => {},
  );
  return { instance, events };
}

describe('the emulated SQS event source mapping', () => {
  it('hands the function records shaped as Lambda shapes them and deletes what succeeded', async () => {
    const queue = await fifoQueue(30);
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: '{"id":"evt-1"}',
        MessageGroupId: 'person-1',
        MessageDeduplicationId: 'evt-1',
        MessageAttributes: { reason: { DataType: 'String', StringValue: 'why' } },
      }),
    );
    const { instance, events } = poller(queue, () => ({ ok: true, payload: { batchItemFailures: [] } }));
    instance.start();
    await waitFor('a batch', async () => (events.length > 0 ? true : undefined));
    await waitFor('the delete', async () => ((await counts(queue.url)).inFlight === 0 ? true : undefined));
    await instance.stop();

    expect(events[0]?.Records[0]).toEqual({
      messageId: expect.any(String),
      receiptHandle: expect.any(String),
      body: '{"id":"evt-1"}',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d+$/),
        SenderId: expect.any(String),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/),
        SequenceNumber: expect.stringMatching(/^\d+$/),
        MessageGroupId: 'person-1',
        MessageDeduplicationId: 'evt-1',
      },
      messageAttributes: {
        reason: { dataType: 'String', stringValue: 'why', stringListValues: [], binaryListValues: [] },
      },
      md5OfBody: expect.stringMatching(/^[0-9a-f]{32}$/),
      md5OfMessageAttributes: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: 'eu-west-1',
    });
    expect(await counts(queue.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('leaves the reported failures on the queue, in flight until their visibility timeout, and deletes the rest', async () => {
    const queue = await fifoQueue(30);
    await sqs.client.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: ['a', 'b', 'c'].map((group) => ({
          Id: group,
          MessageBody: group,
          MessageGroupId: group,
          MessageDeduplicationId: group,
        })),
      }),
    );
    const { instance, events } = poller(queue, (event) => ({
      ok: true,
      payload: {
        batchItemFailures: event.Records.filter((r) => r.body === 'b').map((r) => ({
          itemIdentifier: r.messageId,
        })),
      },
    }));
    instance.start();
    await waitFor('all three delivered', async () =>
      events.flatMap((e) => e.Records).length >= 3 ? true : undefined,
    );
    await waitFor('a and c deleted', async () =>
      JSON.stringify(await counts(queue.url)) === JSON.stringify({ visible: 0, inFlight: 1 })
        ? true
        : undefined,
    );
    await instance.stop();
    // One batch in flight per group: no record of a group while one of it is out.
    for (const event of events) {
      const groups = event.Records.map((r) => r.attributes.MessageGroupId);
      expect(new Set(groups).size).toBe(groups.length);
    }
  });

  it('deletes nothing when the function fails (error, timeout, crash), nor for an answer naming a stranger', async () => {
    const queue = await fifoQueue(30);
    for (const group of ['x', 'y']) {
      await sqs.client.send(
        new SendMessageCommand({
          QueueUrl: queue.url,
          MessageBody: group,
          MessageGroupId: group,
          MessageDeduplicationId: group,
        }),
      );
    }
    let call = 0;
    const { instance, events } = poller(queue, () =>
      ++call === 1
        ? { ok: false, errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 10.00 seconds' }
        : { ok: true, payload: { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] } },
    );
    instance.start();
    await waitFor('both delivered', async () =>
      events.flatMap((e) => e.Records).length >= 2 ? true : undefined,
    );
    // stop() waits for the batches in hand to finish, deletes included: no settling time to guess.
    await instance.stop();
    expect(await counts(queue.url)).toEqual({ visible: 0, inFlight: 2 });
  });
});
