import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatedSqs, startSqs } from '../../emulate/sqs';
import { createDynamoDbStateStore } from '../../functions/core/adapters/dynamodb';
import type { StateStore } from '../../functions/core/engine/ports';
import type { CanonicalEvent } from '../../functions/core/events/canonical-event';
import { sweepDeadLetters } from '../../functions/lambda/dead-letter-sweep';
import { type LocalDynamoDb, startDynalite } from '../support/dynalite';

/*
 * The scheduled sweep on real parts: a FIFO queue whose redrive policy moves a message after its receives
 * (fauxqs, over the SQS wire protocol), and the DynamoDB event store on dynalite. A message SQS moved by
 * itself leaves its event open; the sweep ends it failed, and leaves every letter where it was.
 */

let sqs: EmulatedSqs;
let dynamo: LocalDynamoDb;
let store: StateStore;

beforeAll(async () => {
  [sqs, dynamo] = await Promise.all([startSqs('us-east-1'), startDynalite()]);
  store = createDynamoDbStateStore({ client: dynamo.client, tableName: await dynamo.createTable() });
});

afterAll(async () => {
  await sqs?.close();
  await dynamo?.close();
});

let queues = 0;
async function queuePair(): Promise<{ queueUrl: string; dlqUrl: string }> {
  const name = `sweep-${++queues}`;
  const dlq = await sqs.client.send(
    new CreateQueueCommand({ QueueName: `${name}-dlq.fifo`, Attributes: { FifoQueue: 'true' } }),
  );
  const dlqUrl = String(dlq.QueueUrl);
  const { Attributes } = await sqs.client.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
  );
  const queue = await sqs.client.send(
    new CreateQueueCommand({
      QueueName: `${name}.fifo`,
      Attributes: {
        FifoQueue: 'true',
        // Gone from view for 1 s after each receive; moved after the second.
        VisibilityTimeout: '1',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: 2 }),
      },
    }),
  );
  return { queueUrl: String(queue.QueueUrl), dlqUrl };
}

const hire = (id: string): CanonicalEvent =>
  ({
    id,
    type: 'hire',
    occurredAt: '2026-01-05T09:00:00Z',
    employee: { id: `E-${id}`, email: `${id}@example.com`, name: 'Ada' },
    roles: ['tenant-member'],
  }) as CanonicalEvent;

async function accepted(event: CanonicalEvent): Promise<void> {
  const sequence = await store.events.reserveSequences(1);
  await store.events.accept(event, { source: 'token', at: new Date().toISOString(), sequence });
}

const send = (queueUrl: string, event: CanonicalEvent, reason?: string) =>
  sqs.client.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify(event),
      MessageGroupId: `id:E-${event.id}`,
      MessageDeduplicationId: event.id,
      ...(reason ? { MessageAttributes: { reason: { DataType: 'String', StringValue: reason } } } : {}),
    }),
  );

/** Receives (and drops) the queue's messages until SQS has moved them all to the dead-letter queue. */
async function crashUntilMoved(queueUrl: string, dlqUrl: string, count: number): Promise<void> {
  for (;;) {
    await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const { Attributes } = await sqs.client.send(
      new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    if (Number(Attributes?.ApproximateNumberOfMessages) >= count) return;
  }
}

async function lettersOn(dlqUrl: string): Promise<number> {
  const { Attributes } = await sqs.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: dlqUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible)
  );
}

describe('sweepDeadLetters', () => {
  it('ends failed an event whose message SQS moved by itself, and leaves the letter visible', async () => {
    const { queueUrl, dlqUrl } = await queuePair();
    const event = hire('moved');
    await accepted(event);
    await send(queueUrl, event);
    await crashUntilMoved(queueUrl, dlqUrl, 1);
    expect((await store.events.get('moved'))?.status).toBe('queued');

    const report = await sweepDeadLetters(sqs.client, dlqUrl, store.events);

    expect(report).toEqual({ seen: 1, reconciled: ['moved'] });
    expect(await store.events.get('moved')).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('SQS moved it to the dead-letter queue'),
    });
    // Still there, and visible at once: `dlq list` and a redrive find it.
    const again = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    expect(again.Messages?.map((m) => JSON.parse(String(m.Body)).id)).toEqual(['moved']);
  });

  it('leaves alone the worker’s own letters, events already terminal and letters of no known event', async () => {
    const { dlqUrl } = await queuePair();
    const own = hire('own-letter');
    const done = hire('done-already');
    const unknown = hire('never-recorded');
    for (const event of [own, done]) await accepted(event);
    await store.events.finish('done-already', { status: 'succeeded', at: new Date().toISOString() });
    await send(dlqUrl, own, 'TrueFoundry answered 422');
    await send(dlqUrl, done);
    await send(dlqUrl, unknown);

    const report = await sweepDeadLetters(sqs.client, dlqUrl, store.events);

    expect(report).toEqual({ seen: 3, reconciled: [] });
    expect((await store.events.get('own-letter'))?.status).toBe('queued');
    expect((await store.events.get('done-already'))?.status).toBe('succeeded');
    expect(await lettersOn(dlqUrl)).toBe(3);
  });

  it('answers an empty queue with nothing seen', async () => {
    const { dlqUrl } = await queuePair();
    expect(await sweepDeadLetters(sqs.client, dlqUrl, store.events)).toEqual({ seen: 0, reconciled: [] });
  });
});
