import {
  type BatchResultErrorEntry,
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SqsEventQueue } from '../../functions/core/adapters/sqs/sqs-event-queue';
import { parseCanonicalEvent } from '../../functions/core/events/canonical-event';
import { EnqueueError, messageOf, type OutgoingMessage } from '../../functions/core/queue/event-queue';
import { hireEvent, ingestFor, jsonRequest } from '../support/ingest-harness';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/hr-events.fifo';
const sqs = mockClient(SQSClient);
const client = new SQSClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const queue = (options: { maxAttempts?: number } = {}) =>
  new SqsEventQueue({ client, queueUrl: QUEUE_URL, baseDelayMs: 1, maxAttempts: options.maxAttempts ?? 3 });

beforeEach(() => {
  sqs.reset();
});
afterAll(() => {
  sqs.restore();
});

const message = (
  eventId: string,
  groupId = 'ada@example.com',
  body = `{"id":"${eventId}"}`,
): OutgoingMessage => ({
  eventId,
  groupId,
  deduplicationId: eventId,
  body,
});
const messages = (count: number, groupId = 'ada@example.com', prefix = 'evt') =>
  Array.from({ length: count }, (_, i) => message(`${prefix}-${String(i).padStart(2, '0')}`, groupId));

type Answer = {
  failed?: (entry: SendMessageBatchRequestEntry) => Omit<BatchResultErrorEntry, 'Id'> | undefined;
};

/** Answers each SendMessageBatch like SQS: every entry successful unless `failed` says otherwise. */
function answerWith({ failed }: Answer = {}) {
  return (input: SendMessageBatchCommandInput) => {
    const entries = input.Entries ?? [];
    const failures = entries.flatMap((e) => {
      const failure = failed?.(e);
      return failure ? [{ Id: e.Id, ...failure }] : [];
    });
    return {
      Successful: entries
        .filter((e) => !failures.some((f) => f.Id === e.Id))
        .map((e) => ({ Id: e.Id, MessageId: `mid-${e.MessageDeduplicationId}`, MD5OfMessageBody: 'x' })),
      Failed: failures,
    };
  };
}

/** The entries of each SendMessageBatch call, in call order. */
const calls = (): SendMessageBatchRequestEntry[][] =>
  sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries ?? []);
const dedupIdsOf = (entries: SendMessageBatchRequestEntry[]) => entries.map((e) => e.MessageDeduplicationId);

async function enqueueError(promise: Promise<void>): Promise<EnqueueError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof EnqueueError)) throw new Error(`expected an EnqueueError, got ${String(error)}`);
  return error;
}

describe('SqsEventQueue', () => {
  it('sends each message with its group, deduplication id and body to the queue', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(answerWith());
    await queue().send([
      message('evt-1', 'ada@example.com', '{"a":1}'),
      message('evt-2', 'bob@example.com', '{"b":2}'),
    ]);

    const sent = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(sent.every((input) => input.QueueUrl === QUEUE_URL)).toBe(true);
    const entries = sent.flatMap((input) => input.Entries ?? []);
    expect(entries.map(({ Id: _id, ...rest }) => rest)).toEqual(
      expect.arrayContaining([
        { MessageBody: '{"a":1}', MessageGroupId: 'ada@example.com', MessageDeduplicationId: 'evt-1' },
        { MessageBody: '{"b":2}', MessageGroupId: 'bob@example.com', MessageDeduplicationId: 'evt-2' },
      ]),
    );
    expect(entries).toHaveLength(2);
  });

  it('sends 25 messages of one group in 3 calls of at most 10, in order', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(answerWith());
    const all = messages(25);
    await queue().send(all);

    const batches = calls();
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flatMap(dedupIdsOf)).toEqual(all.map((m) => m.eventId));
    for (const batch of batches) expect(new Set(batch.map((e) => e.Id)).size).toBe(batch.length);
  });

  it("keeps each group's order when many groups are sent at once", async () => {
    sqs.on(SendMessageBatchCommand).callsFake(answerWith());
    const groups = ['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com'];
    const all = Array.from({ length: 60 }, (_, i) => message(`evt-${i}`, groups[i % groups.length]));
    await queue().send(all);

    const batches = calls();
    expect(batches.every((b) => b.length <= 10)).toBe(true);
    const entries = batches.flat();
    expect(entries).toHaveLength(60);
    for (const group of groups) {
      const sentOrder = entries
        .filter((e) => e.MessageGroupId === group)
        .map((e) => e.MessageDeduplicationId);
      expect(sentOrder).toEqual(all.filter((m) => m.groupId === group).map((m) => m.eventId));
    }
  });

  it('splits batches at the 256 KiB batch byte limit', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(answerWith());
    const big = (id: string) => message(id, 'ada@example.com', 'x'.repeat(100 * 1024));
    await queue().send(['b0', 'b1', 'b2', 'b3', 'b4'].map(big));

    const batches = calls();
    expect(batches.map(dedupIdsOf)).toEqual([['b0', 'b1'], ['b2', 'b3'], ['b4']]);
    for (const batch of batches) {
      const bytes = batch.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0);
      expect(bytes).toBeLessThanOrEqual(256 * 1024);
    }
  });

  it('fills a batch up to exactly 256 KiB, counting bytes rather than characters', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(answerWith());
    const half = 'x'.repeat(128 * 1024);
    // "é" is one character and two bytes: 64 Ki of them are 128 KiB.
    const halfInTwoByteChars = 'é'.repeat(64 * 1024);
    await queue().send([
      message('h0', 'g@example.com', half),
      message('h1', 'g@example.com', halfInTwoByteChars),
      message('h2', 'g@example.com', halfInTwoByteChars),
      message('h3', 'g@example.com', `${half}x`),
    ]);

    expect(calls().map(dedupIdsOf)).toEqual([['h0', 'h1'], ['h2'], ['h3']]);
  });

  it('retries only the entries that failed', async () => {
    const transient = { Code: 'InternalError', Message: 'try again', SenderFault: false };
    sqs
      .on(SendMessageBatchCommand)
      .callsFakeOnce(
        answerWith({
          failed: (e) =>
            ['evt-01', 'evt-04'].includes(e.MessageDeduplicationId ?? '') ? transient : undefined,
        }),
      )
      .callsFake(answerWith());
    await queue().send(messages(6));

    const batches = calls();
    expect(batches).toHaveLength(2);
    expect(dedupIdsOf(batches[0] ?? [])).toHaveLength(6);
    expect(dedupIdsOf(batches[1] ?? [])).toEqual(['evt-01', 'evt-04']);
    expect(batches[1]?.map((e) => e.MessageGroupId)).toEqual(['ada@example.com', 'ada@example.com']);
  });

  it('does not retry sender faults and names their events in the EnqueueError', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(
      answerWith({
        failed: (e) =>
          e.MessageDeduplicationId === 'evt-02'
            ? { Code: 'InvalidMessageContents', Message: 'bad body', SenderFault: true }
            : undefined,
      }),
    );
    const error = await enqueueError(queue().send(messages(5)));

    expect(calls()).toHaveLength(1);
    expect(error.failedEventIds).toEqual(['evt-02']);
    expect(error.message).toMatch(/could not enqueue 1 event\(s\): InvalidMessageContents: bad body/);
  });

  it('still retries the transient failures that come in the same answer as a sender fault', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .callsFakeOnce(
        answerWith({
          failed: (e) => {
            if (e.MessageDeduplicationId === 'evt-00') {
              return { Code: 'InvalidMessageContents', Message: 'bad body', SenderFault: true };
            }
            if (e.MessageDeduplicationId === 'evt-01')
              return { Code: 'ServiceUnavailable', Message: 'busy', SenderFault: false };
            return undefined;
          },
        }),
      )
      .callsFake(answerWith());
    const error = await enqueueError(queue().send(messages(3)));

    expect(calls().map(dedupIdsOf)).toEqual([['evt-00', 'evt-01', 'evt-02'], ['evt-01']]);
    expect(error.failedEventIds).toEqual(['evt-00']);
  });

  it('retries a thrown client error with the whole batch', async () => {
    sqs.on(SendMessageBatchCommand).rejectsOnce(new Error('socket hang up')).callsFake(answerWith());
    await queue().send(messages(4));

    const batches = calls();
    expect(batches.map(dedupIdsOf)).toEqual([
      ['evt-00', 'evt-01', 'evt-02', 'evt-03'],
      ['evt-00', 'evt-01', 'evt-02', 'evt-03'],
    ]);
  });

  it('gives up after maxAttempts on a client that keeps throwing, naming every event', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error('getaddrinfo ENOTFOUND sqs.eu-west-1.amazonaws.com'));
    const error = await enqueueError(queue({ maxAttempts: 4 }).send(messages(3)));

    expect(calls()).toHaveLength(4);
    expect(error.failedEventIds).toEqual(['evt-00', 'evt-01', 'evt-02']);
    expect(error.message).toMatch(/ENOTFOUND/);
  });

  it('gives up after maxAttempts on entries that keep failing, naming only those', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(
      answerWith({
        failed: (e) =>
          e.MessageDeduplicationId === 'evt-01'
            ? { Code: 'ThrottlingException', Message: 'slow down', SenderFault: false }
            : undefined,
      }),
    );
    const error = await enqueueError(queue({ maxAttempts: 3 }).send(messages(3)));

    expect(calls().map(dedupIdsOf)).toEqual([['evt-00', 'evt-01', 'evt-02'], ['evt-01'], ['evt-01']]);
    expect(error.failedEventIds).toEqual(['evt-01']);
    expect(error.message).toMatch(/ThrottlingException: slow down/);
  });

  it("does not send a group's later batches once an earlier one failed, and names them as not sent", async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error('AccessDenied'));
    const all = messages(25);
    const error = await enqueueError(queue({ maxAttempts: 2 }).send(all));

    // Only the first batch was tried (twice): sending the next ones would put later events ahead of it.
    expect(calls().map((b) => b.length)).toEqual([10, 10]);
    expect(
      calls()
        .flatMap(dedupIdsOf)
        .every((id) => all.slice(0, 10).some((m) => m.eventId === id)),
    ).toBe(true);
    expect(error.failedEventIds).toEqual(all.map((m) => m.eventId));
  });

  it('sends nothing for no messages', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(answerWith());
    await queue().send([]);
    expect(calls()).toEqual([]);
  });
});

describe('messageOf (the queue contract)', () => {
  const eventOf = (input: unknown) => {
    const parsed = parseCanonicalEvent(input);
    if (!parsed.ok) throw new Error('invalid test event');
    return parsed.event;
  };

  it('groups by the person (the HR employee id) and deduplicates by the event id; the body is the canonical event', () => {
    const event = eventOf(hireEvent('evt-7', '  Ada@Example.COM '));
    const out = messageOf(event);

    expect(out).toMatchObject({ eventId: 'evt-7', groupId: 'id:E-evt-7', deduplicationId: 'evt-7' });
    expect(JSON.parse(out.body)).toEqual(event);
    expect(event.employee.email).toBe('ada@example.com');
  });

  it('hashes a person key SQS would not take as a group id', () => {
    // Emails are ASCII (a Unicode local part is refused at the edge): a long one is what SQS would not take.
    const long = `${'j'.repeat(64)}@${'k'.repeat(50)}.example.com`;
    const byEmail = {
      ...hireEvent('evt-8', long),
      employee: { id: long, email: long },
    };
    expect(messageOf(eventOf(byEmail)).groupId).toMatch(/^sha256:[0-9a-f]{64}$/);
    const byId = {
      ...hireEvent('evt-9', 'j@example.com'),
      employee: { id: 'Jürgen-7', email: 'j@example.com' },
    };
    expect(messageOf(eventOf(byId)).groupId).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('keeps one group for a person across an email change, and groups an email-only person by the email', () => {
    const before = {
      ...hireEvent('evt-10', 'old@example.com'),
      employee: { id: 'E7', email: 'old@example.com' },
    };
    const after = {
      ...hireEvent('evt-11', 'new@example.com'),
      employee: { id: 'E7', email: 'new@example.com' },
    };
    expect(messageOf(eventOf(before)).groupId).toBe('id:E7');
    expect(messageOf(eventOf(after)).groupId).toBe('id:E7');
    const emailOnly = {
      ...hireEvent('evt-12', 'x@example.com'),
      employee: { id: 'X@Example.com', email: 'x@example.com' },
    };
    expect(messageOf(eventOf(emailOnly)).groupId).toBe('email:x@example.com');
  });

  it('writes a body SQS accepts: no U+FFFE or U+FFFF, which JSON.stringify leaves as they are', () => {
    const event = eventOf({
      ...hireEvent('evt-9'),
      employee: { id: 'E9', email: 'a@example.com', name: 'A\uFFFFB\uFFFE' },
    });
    const out = messageOf(event);

    // SQS allows #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
    const refused = [...out.body].filter((c) => {
      const code = c.codePointAt(0) ?? 0;
      const allowed =
        code === 0x9 ||
        code === 0xa ||
        code === 0xd ||
        (code >= 0x20 && code <= 0xd7ff) ||
        (code >= 0xe000 && code <= 0xfffd) ||
        code >= 0x10000;
      return !allowed;
    });
    expect(refused).toEqual([]);
    expect(JSON.parse(out.body)).toEqual(event);
  });
});

describe('ingest over SqsEventQueue', () => {
  it('POST /events sends SendMessageBatch with the employee group and the event id', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(answerWith());
    const ingest = ingestFor({ queue: queue() });
    const response = await ingest.call(jsonRequest('/events', [hireEvent('evt-1', 'Ada@Example.com')]));

    expect(response.status).toBe(202);
    const [entry] = calls().flat();
    expect(entry).toMatchObject({ MessageGroupId: 'id:E-evt-1', MessageDeduplicationId: 'evt-1' });
    expect(JSON.parse(entry?.MessageBody ?? '')).toMatchObject({
      id: 'evt-1',
      employee: { email: 'ada@example.com' },
    });
  });

  it('entries SQS keeps refusing → 503; the retry sends only those, and each event reaches SQS once', async () => {
    let refusing = true;
    sqs.on(SendMessageBatchCommand).callsFake(
      answerWith({
        failed: (e) =>
          refusing && e.MessageDeduplicationId === 'evt-2'
            ? { Code: 'ThrottlingException', Message: 'slow down', SenderFault: false }
            : undefined,
      }),
    );
    const ingest = ingestFor({ queue: queue({ maxAttempts: 2 }) });
    const events = [
      hireEvent('evt-1', 'a@example.com'),
      hireEvent('evt-2', 'b@example.com'),
      hireEvent('evt-3', 'c@example.com'),
    ];

    expect((await ingest.call(jsonRequest('/events', events))).status).toBe(503);
    expect(await ingest.store.get('evt-2')).toMatchObject({ enqueued: false });

    refusing = false;
    sqs.resetHistory();
    const retry = await ingest.call(jsonRequest('/events', events));

    expect(retry.status).toBe(202);
    expect(calls().flatMap(dedupIdsOf)).toEqual(['evt-2']);
    expect(await ingest.store.get('evt-2')).toMatchObject({ enqueued: true });
  });
});
