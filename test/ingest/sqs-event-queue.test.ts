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
import { isTerminal } from '../../functions/core/engine/ports';
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
/** `count` messages, each of its own person unless a group is given. */
const messages = (count: number, groupId?: string, prefix = 'evt') =>
  Array.from({ length: count }, (_, i) => {
    const id = `${prefix}-${String(i).padStart(2, '0')}`;
    return message(id, groupId ?? `person-${id}`);
  });

/**
 * SqsEventQueue's lane of a group, reproduced (8 lanes by a 31-hash of the group id). Messages of one lane
 * go out one batch after another, in order; lanes go out in parallel. Should the queue's hash change, the
 * tests that count the calls of one lane fail, since their groups then spread over several lanes.
 */
const LANES = 8;
function laneOf(groupId: string): number {
  let hash = 0;
  for (let i = 0; i < groupId.length; i++) hash = (hash * 31 + groupId.charCodeAt(i)) | 0;
  return Math.abs(hash) % LANES;
}
/** `count` distinct groups (people) that share `lane`. */
function groupsOfLane(count: number, lane = 0): string[] {
  const groups: string[] = [];
  for (let i = 0; groups.length < count; i++) if (laneOf(`person-${i}`) === lane) groups.push(`person-${i}`);
  return groups;
}
/** `count` messages, each of its own person, all in one lane: batched together, in order, as one sequence. */
const oneLane = (count: number, prefix = 'evt', lane = 0) =>
  groupsOfLane(count, lane).map((group, i) => message(`${prefix}-${String(i).padStart(2, '0')}`, group));

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

/**
 * A FIFO queue behind `answerWith`: what SQS took, per group, in the order it took it (a batch's successful
 * entries in entry order, as SQS FIFO does).
 */
function fifoQueue(answer: Answer = {}) {
  const received = new Map<string, string[]>();
  const respond = answerWith(answer);
  return {
    received,
    answer: (input: SendMessageBatchCommandInput) => {
      const out = respond(input);
      const took = new Set(out.Successful.map((s) => s.Id));
      for (const entry of input.Entries ?? []) {
        if (!took.has(entry.Id)) continue;
        const group = entry.MessageGroupId ?? '';
        received.set(group, [...(received.get(group) ?? []), entry.MessageDeduplicationId ?? '']);
      }
      return out;
    },
  };
}

const TRANSIENT = { Code: 'ServiceUnavailable', Message: 'busy', SenderFault: false };
const INVALID = { Code: 'InvalidMessageContents', Message: 'bad body', SenderFault: true };

/** The entries of each SendMessageBatch call, in call order. */
const calls = (): SendMessageBatchRequestEntry[][] =>
  sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries ?? []);
const dedupIdsOf = (entries: SendMessageBatchRequestEntry[]) => entries.map((e) => e.MessageDeduplicationId);
const groupsOf = (entries: SendMessageBatchRequestEntry[]) => entries.map((e) => e.MessageGroupId);

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

  it('sends 25 messages of one lane in 3 calls of at most 10, in order', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(answerWith());
    const all = oneLane(25);
    await queue().send(all);

    const batches = calls();
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flatMap(dedupIdsOf)).toEqual(all.map((m) => m.eventId));
    for (const batch of batches) expect(new Set(batch.map((e) => e.Id)).size).toBe(batch.length);
  });

  it('sends the messages of different lanes in separate calls', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(answerWith());
    const all = Array.from({ length: LANES }, (_, lane) => oneLane(3, `lane${lane}`, lane)).flat();
    await queue().send(all);

    const batches = calls();
    expect(batches).toHaveLength(LANES);
    for (const batch of batches) {
      expect(new Set(batch.map((e) => laneOf(e.MessageGroupId ?? ''))).size).toBe(1);
      expect(batch).toHaveLength(3);
    }
    expect(batches.flatMap(dedupIdsOf).sort().join()).toBe(
      all
        .map((m) => m.eventId)
        .sort()
        .join(),
    );
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
    const groups = groupsOfLane(5);
    const big = (id: string, i: number) => message(id, groups[i], 'x'.repeat(100 * 1024));
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
    const [g0, g1, g2, g3] = groupsOfLane(4) as [string, string, string, string];
    const half = 'x'.repeat(128 * 1024);
    // "é" is one character and two bytes: 64 Ki of them are 128 KiB.
    const halfInTwoByteChars = 'é'.repeat(64 * 1024);
    await queue().send([
      message('h0', g0, half),
      message('h1', g1, halfInTwoByteChars),
      message('h2', g2, halfInTwoByteChars),
      message('h3', g3, `${half}x`),
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
    const all = oneLane(6);
    await queue().send(all);

    const batches = calls();
    expect(batches).toHaveLength(2);
    expect(dedupIdsOf(batches[0] ?? [])).toEqual(all.map((m) => m.eventId));
    expect(dedupIdsOf(batches[1] ?? [])).toEqual(['evt-01', 'evt-04']);
    expect(groupsOf(batches[1] ?? [])).toEqual([all[1]?.groupId, all[4]?.groupId]);
  });

  it('does not retry sender faults and names their events in the EnqueueError', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .callsFake(
        answerWith({ failed: (e) => (e.MessageDeduplicationId === 'evt-02' ? INVALID : undefined) }),
      );
    const error = await enqueueError(queue().send(oneLane(5)));

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
            if (e.MessageDeduplicationId === 'evt-00') return INVALID;
            if (e.MessageDeduplicationId === 'evt-01') return TRANSIENT;
            return undefined;
          },
        }),
      )
      .callsFake(answerWith());
    const error = await enqueueError(queue().send(oneLane(3)));

    expect(calls().map(dedupIdsOf)).toEqual([['evt-00', 'evt-01', 'evt-02'], ['evt-01']]);
    expect(error.failedEventIds).toEqual(['evt-00']);
    // The transient failure was cured: what is left is a refusal no retry fixes.
    expect(error.rejected).toEqual(new Map([['evt-00', 'InvalidMessageContents: bad body']]));
    expect(error.permanent).toBe(true);
  });

  it('retries a thrown client error with the whole batch', async () => {
    sqs.on(SendMessageBatchCommand).rejectsOnce(new Error('socket hang up')).callsFake(answerWith());
    await queue().send(oneLane(4));

    const batches = calls();
    expect(batches.map(dedupIdsOf)).toEqual([
      ['evt-00', 'evt-01', 'evt-02', 'evt-03'],
      ['evt-00', 'evt-01', 'evt-02', 'evt-03'],
    ]);
  });

  it('gives up after maxAttempts on a client that keeps throwing, naming every event', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error('getaddrinfo ENOTFOUND sqs.eu-west-1.amazonaws.com'));
    const error = await enqueueError(queue({ maxAttempts: 4 }).send(oneLane(3)));

    expect(calls().map(dedupIdsOf)).toEqual(Array(4).fill(['evt-00', 'evt-01', 'evt-02']));
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
    const error = await enqueueError(queue({ maxAttempts: 3 }).send(oneLane(3)));

    expect(calls().map(dedupIdsOf)).toEqual([['evt-00', 'evt-01', 'evt-02'], ['evt-01'], ['evt-01']]);
    expect(error.failedEventIds).toEqual(['evt-01']);
    expect(error.message).toMatch(/ThrottlingException: slow down/);
  });

  it("does not send a lane's later batches once an earlier one failed, and names them as not sent", async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error('AccessDenied'));
    // 25 people of one lane, then a second event of the first person: it can only go in a later batch.
    const all = oneLane(25);
    const first = all[0] as OutgoingMessage;
    all.push(message('evt-first-again', first.groupId));
    const error = await enqueueError(queue({ maxAttempts: 2 }).send(all));

    // Only the first batch was tried (twice): sending the next ones would put later events ahead of it.
    expect(calls().map(dedupIdsOf)).toEqual([
      all.slice(0, 10).map((m) => m.eventId),
      all.slice(0, 10).map((m) => m.eventId),
    ]);
    expect(error.failedEventIds).toEqual(all.map((m) => m.eventId));
    expect(error.permanent).toBe(false);
  });

  it("does not hold back another lane's messages when one lane fails", async () => {
    const failing = oneLane(12, 'bad', 0);
    const healthy = oneLane(12, 'good', 1);
    sqs
      .on(SendMessageBatchCommand)
      .callsFake(
        answerWith({ failed: (e) => (e.MessageDeduplicationId?.startsWith('bad-') ? TRANSIENT : undefined) }),
      );
    const error = await enqueueError(queue({ maxAttempts: 2 }).send([...failing, ...healthy]));

    const sent = calls().flatMap(dedupIdsOf);
    expect(sent.filter((id) => id?.startsWith('good-'))).toEqual(healthy.map((m) => m.eventId));
    expect([...error.failedEventIds].sort()).toEqual(failing.map((m) => m.eventId).sort());
  });

  it('sends nothing for no messages', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(answerWith());
    await queue().send([]);
    expect(calls()).toEqual([]);
  });

  describe('one message of a group per call (a retry never queues a person’s event behind their next one)', () => {
    it('never puts two messages of one group in one call, and retries a failed first one before sending the second', async () => {
      const [ada, bob] = groupsOfLane(2) as [string, string];
      const failedOnce = new Set<string>();
      const fifo = fifoQueue({
        failed: (e) => {
          const id = e.MessageDeduplicationId ?? '';
          if (id !== 'ada-1' || failedOnce.has(id)) return undefined;
          failedOnce.add(id);
          return TRANSIENT;
        },
      });
      sqs.on(SendMessageBatchCommand).callsFake(fifo.answer);
      await queue().send([message('ada-1', ada), message('bob-1', bob), message('ada-2', ada)]);

      // ada-2 is not sent until ada-1 is on the queue.
      expect(calls().map(dedupIdsOf)).toEqual([['ada-1', 'bob-1'], ['ada-1'], ['ada-2']]);
      expect(fifo.received.get(ada)).toEqual(['ada-1', 'ada-2']);
      expect(fifo.received.get(bob)).toEqual(['bob-1']);
    });

    it('sends a run of one person’s events one call each, in order', async () => {
      sqs.on(SendMessageBatchCommand).callsFake(answerWith());
      const all = messages(4, 'ada@example.com');
      await queue().send(all);

      expect(calls().map(dedupIdsOf)).toEqual(all.map((m) => [m.eventId]));
    });

    it("keeps every group's order on SQS whatever entries fail transiently", async () => {
      const groups = ['a@example.com', 'b@example.com', 'c@example.com', ...groupsOfLane(3)];
      const all = Array.from({ length: 48 }, (_, i) =>
        message(`evt-${String(i).padStart(2, '0')}`, groups[(i * 7) % groups.length]),
      );
      // Every third event fails its first attempt, every fifth its first two.
      const attempts = new Map<string, number>();
      const fifo = fifoQueue({
        failed: (e) => {
          const id = e.MessageDeduplicationId ?? '';
          const n = Number(id.slice(4));
          const attempt = (attempts.get(id) ?? 0) + 1;
          attempts.set(id, attempt);
          const failures = n % 5 === 0 ? 2 : n % 3 === 0 ? 1 : 0;
          return attempt <= failures ? TRANSIENT : undefined;
        },
      });
      sqs.on(SendMessageBatchCommand).callsFake(fifo.answer);
      await queue({ maxAttempts: 3 }).send(all);

      for (const batch of calls()) expect(new Set(groupsOf(batch)).size).toBe(batch.length);
      for (const group of groups) {
        expect(fifo.received.get(group)).toEqual(
          all.filter((m) => m.groupId === group).map((m) => m.eventId),
        );
      }
    });
  });

  describe('EnqueueError.rejected and .permanent (SQS SenderFault)', () => {
    it('names each sender fault with its reason, and is permanent when every failure is one', async () => {
      sqs.on(SendMessageBatchCommand).callsFake(
        answerWith({
          failed: (e) => {
            if (e.MessageDeduplicationId === 'evt-01') return INVALID;
            if (e.MessageDeduplicationId === 'evt-03')
              return { Code: 'InvalidParameterValue', Message: 'too long', SenderFault: true };
            return undefined;
          },
        }),
      );
      const error = await enqueueError(queue().send(messages(5)));

      expect(error.rejected).toEqual(
        new Map([
          ['evt-01', 'InvalidMessageContents: bad body'],
          ['evt-03', 'InvalidParameterValue: too long'],
        ]),
      );
      expect([...error.failedEventIds].sort()).toEqual(['evt-01', 'evt-03']);
      expect(error.permanent).toBe(true);
      // Sender faults are not retried: each of the other events went out once.
      expect(calls().flatMap(dedupIdsOf).sort()).toEqual(messages(5).map((m) => m.eventId));
    });

    it('is not permanent while a transient failure remains, and names the transient reason', async () => {
      sqs.on(SendMessageBatchCommand).callsFake(
        answerWith({
          failed: (e) =>
            e.MessageDeduplicationId === 'evt-00'
              ? INVALID
              : e.MessageDeduplicationId === 'evt-01'
                ? { Code: 'ThrottlingException', Message: 'slow down', SenderFault: false }
                : undefined,
        }),
      );
      const error = await enqueueError(queue({ maxAttempts: 2 }).send(oneLane(3)));

      expect(error.failedEventIds).toEqual(['evt-00', 'evt-01']);
      expect(error.rejected).toEqual(new Map([['evt-00', 'InvalidMessageContents: bad body']]));
      expect(error.permanent).toBe(false);
      expect(error.message).toMatch(/ThrottlingException: slow down/);
    });

    it("is not permanent when a sender fault left the lane's later messages unsent", async () => {
      sqs
        .on(SendMessageBatchCommand)
        .callsFake(
          answerWith({ failed: (e) => (e.MessageDeduplicationId === 'evt-00' ? INVALID : undefined) }),
        );
      const all = oneLane(12);
      const error = await enqueueError(queue().send(all));

      expect(calls().map(dedupIdsOf)).toEqual([all.slice(0, 10).map((m) => m.eventId)]);
      expect(error.failedEventIds).toEqual(['evt-00', 'evt-10', 'evt-11']);
      expect(error.rejected).toEqual(new Map([['evt-00', 'InvalidMessageContents: bad body']]));
      expect(error.permanent).toBe(false);
    });
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
  it('SQS refuses one event as invalid → 422 naming it; it ends failed, the rest of the request is queued', async () => {
    const fifo = fifoQueue({ failed: (e) => (e.MessageDeduplicationId === 'evt-2' ? INVALID : undefined) });
    sqs.on(SendMessageBatchCommand).callsFake(fifo.answer);
    const ingest = ingestFor({ queue: queue() });
    const events = [
      hireEvent('evt-1', 'a@example.com'),
      hireEvent('evt-2', 'b@example.com'),
      hireEvent('evt-3', 'c@example.com'),
    ];

    const response = await ingest.call(jsonRequest('/events', events));

    expect(response.status).toBe(422);
    expect(response.json).toMatchObject({
      error: 'unqueueable',
      events: [{ id: 'evt-2', error: 'InvalidMessageContents: bad body' }],
    });
    // Refused at once: a sender fault is not retried.
    expect(
      calls()
        .flatMap(dedupIdsOf)
        .filter((id) => id === 'evt-2'),
    ).toHaveLength(1);
    const refused = await ingest.store.get('evt-2');
    expect(refused).toMatchObject({
      status: 'failed',
      error: 'the queue refused the event: InvalidMessageContents: bad body',
    });
    expect(isTerminal(refused?.status ?? 'queued')).toBe(true);
    // Nothing else of the request is lost: the others are on the queue and confirmed.
    for (const id of ['evt-1', 'evt-3']) {
      expect(await ingest.store.get(id)).toMatchObject({ status: 'queued', enqueued: true });
      expect(fifo.received.get(`id:E-${id}`)).toEqual([id]);
    }
  });

  it('a retry of the request SQS refused an event of does not send that event again', async () => {
    const fifo = fifoQueue({ failed: (e) => (e.MessageDeduplicationId === 'evt-2' ? INVALID : undefined) });
    sqs.on(SendMessageBatchCommand).callsFake(fifo.answer);
    const ingest = ingestFor({ queue: queue() });
    const events = [
      hireEvent('evt-1', 'a@example.com'),
      hireEvent('evt-2', 'b@example.com'),
      hireEvent('evt-3', 'c@example.com'),
    ];
    expect((await ingest.call(jsonRequest('/events', events))).status).toBe(422);

    sqs.resetHistory();
    const retry = await ingest.call(jsonRequest('/events', events));

    expect(calls().flatMap(dedupIdsOf)).toEqual([]);
    // Whatever the answer (202 with its status, or 422 again), it names evt-2 and does not call it queued.
    expect([202, 422]).toContain(retry.status);
    expect(retry.json.events).toContainEqual(expect.objectContaining({ id: 'evt-2' }));
    expect(retry.json.events).not.toContainEqual(expect.objectContaining({ id: 'evt-2', status: 'queued' }));
    expect(await ingest.store.get('evt-2')).toMatchObject({
      status: 'failed',
      error: 'the queue refused the event: InvalidMessageContents: bad body',
    });
    for (const id of ['evt-1', 'evt-3']) expect(fifo.received.get(`id:E-${id}`)).toEqual([id]);
    expect(fifo.received.get('id:E-evt-2')).toBeUndefined();
  });

  it('a transient-only failure → 503, not 422: the event stays queued, unconfirmed, for the retry', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .callsFake(
        answerWith({ failed: (e) => (e.MessageDeduplicationId === 'evt-2' ? TRANSIENT : undefined) }),
      );
    const ingest = ingestFor({ queue: queue({ maxAttempts: 2 }) });
    const response = await ingest.call(
      jsonRequest('/events', [hireEvent('evt-1', 'a@example.com'), hireEvent('evt-2', 'b@example.com')]),
    );

    expect(response.status).toBe(503);
    expect(response.json).toMatchObject({ error: 'queue_unavailable' });
    expect(response.json).not.toHaveProperty('events');
    const pending = await ingest.store.get('evt-2');
    expect(pending).toMatchObject({ status: 'queued', enqueued: false });
    expect(pending?.error).toBeUndefined();
    expect(await ingest.store.get('evt-1')).toMatchObject({ status: 'queued', enqueued: true });
  });

  it('a sender fault beside a transient failure → 503 (the sender must retry); the refused event is failed', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(
      answerWith({
        failed: (e) =>
          e.MessageDeduplicationId === 'evt-2'
            ? INVALID
            : e.MessageDeduplicationId === 'evt-3'
              ? TRANSIENT
              : undefined,
      }),
    );
    const ingest = ingestFor({ queue: queue({ maxAttempts: 2 }) });
    const response = await ingest.call(
      jsonRequest('/events', [
        hireEvent('evt-1', 'a@example.com'),
        hireEvent('evt-2', 'b@example.com'),
        hireEvent('evt-3', 'c@example.com'),
      ]),
    );

    expect(response.status).toBe(503);
    expect(await ingest.store.get('evt-2')).toMatchObject({ status: 'failed' });
    expect(await ingest.store.get('evt-3')).toMatchObject({ status: 'queued', enqueued: false });
    expect(await ingest.store.get('evt-1')).toMatchObject({ status: 'queued', enqueued: true });
  });
});
