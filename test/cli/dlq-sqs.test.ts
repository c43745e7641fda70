import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { runCapturing } from './support/cli-harness';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/hrp-events.fifo';
const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/hrp-events-dlq.fifo';
const NOW = Date.parse('2026-11-29T10:00:00Z');

function deadLetter(n: number): Message {
  const event = {
    id: `evt-${n}`,
    type: 'hire',
    occurredAt: '2026-11-29T09:00:00.000Z',
    employee: { id: `E${n}`, email: `p${n}@example.com` },
  };
  return {
    MessageId: `m-${n}`,
    ReceiptHandle: `rh-${n}`,
    Body: JSON.stringify(event),
    Attributes: { MessageGroupId: `e${n}`, SentTimestamp: String(Date.parse('2026-11-29T09:30:00Z')) },
    MessageAttributes: {
      reason: { DataType: 'String', StringValue: `TrueFoundry answered 403 for evt-${n}` },
    },
  };
}

const sqs = mockClient(SQSClient);
const cli = (argv: string[]) =>
  runCapturing(argv, { env: { HRP_DLQ_URL: DLQ_URL }, cwd: process.cwd(), now: () => NOW });

describe('hr-provisioning dlq against SQS', () => {
  beforeEach(() => {
    sqs.reset();
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [deadLetter(1), deadLetter(2), deadLetter(3)] })
      .resolves({});
  });
  afterAll(() => {
    sqs.restore();
  });

  it('lists dead letters and hands them all back at once', async () => {
    const run = await cli(['dlq', 'list', '--json']);

    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      deadLetters: [1, 2, 3].map((n) => ({
        eventId: `evt-${n}`,
        employeeKey: `e${n}`,
        reason: `TrueFoundry answered 403 for evt-${n}`,
        deadAt: '2026-11-29T09:30:00.000Z',
      })),
    });
    const receive = sqs.commandCalls(ReceiveMessageCommand)[0]!.args[0].input;
    expect(receive).toMatchObject({
      QueueUrl: DLQ_URL,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    });
    expect(receive.VisibilityTimeout).toBeLessThanOrEqual(60);
    const released = sqs.commandCalls(ChangeMessageVisibilityBatchCommand).map((c) => c.args[0].input);
    expect(released).toHaveLength(1);
    expect(released[0]!.QueueUrl).toBe(DLQ_URL);
    expect(released[0]!.Entries?.map((e) => [e.ReceiptHandle, e.VisibilityTimeout])).toEqual([
      ['rh-1', 0],
      ['rh-2', 0],
      ['rh-3', 0],
    ]);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });

  it('stops listing at --max', async () => {
    const run = await cli(['dlq', 'list', '--max', '2']);

    expect(sqs.commandCalls(ReceiveMessageCommand)[0]!.args[0].input.MaxNumberOfMessages).toBe(2);
    expect(run.stdout).toContain('(showing the first 2: --max N shows more)');
  });

  it('redrives exactly the named event: sent back in its group with a fresh deduplication id, then deleted', async () => {
    const run = await cli(['dlq', 'redrive', '--id', 'evt-2', '--queue-url', QUEUE_URL]);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('redriven 1:\n  evt-2\n');
    const sent = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(sent).toEqual([
      {
        QueueUrl: QUEUE_URL,
        MessageBody: deadLetter(2).Body,
        MessageGroupId: 'e2',
        MessageDeduplicationId: `evt-2#redrive-${NOW}`,
      },
    ]);
    const deleted = sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input);
    expect(deleted).toEqual([{ QueueUrl: DLQ_URL, ReceiptHandle: 'rh-2' }]);
    const released = sqs
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? []);
    expect(released.map((e) => e.ReceiptHandle)).toEqual(['rh-1', 'rh-3']);
  });

  it('redrives everything when no id is named', async () => {
    const run = await cli(['dlq', 'redrive', '--queue-url', QUEUE_URL]);

    expect(run.stdout).toContain('redriven 3:');
    expect(sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input.MessageGroupId)).toEqual([
      'e1',
      'e2',
      'e3',
    ]);
    expect(sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input.ReceiptHandle)).toEqual([
      'rh-1',
      'rh-2',
      'rh-3',
    ]);
    expect(sqs.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(0);
  });

  it('needs the main queue to redrive', async () => {
    const run = await cli(['dlq', 'redrive', '--id', 'evt-1']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('pass --queue-url or set HRP_QUEUE_URL');
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });
});
