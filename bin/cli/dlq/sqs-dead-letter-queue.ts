import { createHash } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { CliError } from '../cli-io';
import type { DeadLetterQueue, DeadLetterRow } from './dead-letter-queue';

export type SqsQueues = {
  client: SQSClient;
  queueUrl: string | undefined;
  dlqUrl: string;
  now: () => number;
};

/** Long enough to look at a page of messages, short enough that a crashed CLI leaves them soon. */
const LOOK_SECONDS = 30;
const RECEIVE_MAX = 10;
/** Short polling samples only some SQS hosts and may answer empty while messages wait; one second asks all. */
const WAIT_SECONDS = 1;
/** A safety stop for redrive, far above any dead-letter queue worth redriving in one go. */
const REDRIVE_SCAN_LIMIT = 100_000;

/**
 * The SQS FIFO dead-letter queue on AWS. Messages are the canonical event JSON; the worker gives each a
 * `reason` attribute and the employee key as its group. Looking at messages means receiving them, so a
 * listing hides them for a short while and then hands them back (visibility 0) at once.
 * FIFO: messages queued behind an in-flight one of the same employee are not received until it is gone.
 */
export class SqsDeadLetterQueue implements DeadLetterQueue {
  readonly #sqs: SqsQueues;

  constructor(sqs: SqsQueues) {
    this.#sqs = sqs;
  }

  async list(max: number): Promise<DeadLetterRow[]> {
    const seen = new Map<string, Message>();
    try {
      while (seen.size < max) {
        const received = await this.#receive(Math.min(RECEIVE_MAX, max - seen.size));
        const fresh = received.filter((m) => !seen.has(m.MessageId ?? ''));
        for (const message of received) seen.set(message.MessageId ?? '', message);
        if (fresh.length === 0) break;
      }
    } finally {
      await this.#release([...seen.values()]);
    }
    return [...seen.values()].slice(0, max).map(rowOf);
  }

  async redrive(eventIds: readonly string[] | undefined): Promise<string[]> {
    const queueUrl = this.#sqs.queueUrl;
    if (!queueUrl) throw new CliError('redrive needs the main queue: pass --queue-url or set HRP_QUEUE_URL');
    const wanted = eventIds ? new Set(eventIds) : undefined;
    const kept = new Map<string, Message>();
    const redriven: string[] = [];
    try {
      for (let scanned = 0; scanned < REDRIVE_SCAN_LIMIT; ) {
        if (wanted && redriven.length === wanted.size) break;
        const received = await this.#receive(RECEIVE_MAX);
        const fresh = received.filter((m) => !kept.has(m.MessageId ?? ''));
        // A kept message seen again (its look expired): only the newest receipt handle can release it.
        for (const message of received)
          if (kept.has(message.MessageId ?? '')) kept.set(message.MessageId ?? '', message);
        if (fresh.length === 0) break;
        scanned += fresh.length;
        for (const message of fresh) {
          const eventId = eventIdOf(message);
          if (wanted && (eventId === undefined || !wanted.has(eventId))) {
            kept.set(message.MessageId ?? '', message);
            continue;
          }
          await this.#sendBack(queueUrl, message, eventId);
          redriven.push(eventId ?? message.MessageId ?? '?');
        }
      }
    } finally {
      await this.#release([...kept.values()]);
    }
    return redriven;
  }

  /**
   * Deletes every dead letter whose body `covers` accepts (a forgotten person's), looking at each message
   * once; the others are handed back at once. Returns how many were deleted.
   */
  async forget(
    covers: (message: { eventId: string; groupId: string; body: string }) => boolean,
  ): Promise<number> {
    const kept = new Map<string, Message>();
    let deleted = 0;
    try {
      for (let scanned = 0; scanned < REDRIVE_SCAN_LIMIT; ) {
        const received = await this.#receive(RECEIVE_MAX);
        const fresh = received.filter((m) => !kept.has(m.MessageId ?? ''));
        for (const message of received)
          if (kept.has(message.MessageId ?? '')) kept.set(message.MessageId ?? '', message);
        if (fresh.length === 0) break;
        scanned += fresh.length;
        for (const message of fresh) {
          const seen = {
            eventId: eventIdOf(message) ?? '',
            groupId: message.Attributes?.MessageGroupId ?? '',
            body: message.Body ?? '',
          };
          if (!covers(seen)) {
            kept.set(message.MessageId ?? '', message);
            continue;
          }
          await this.#sqs.client.send(
            new DeleteMessageCommand({ QueueUrl: this.#sqs.dlqUrl, ReceiptHandle: message.ReceiptHandle }),
          );
          deleted++;
        }
      }
    } finally {
      await this.#release([...kept.values()]);
    }
    return deleted;
  }

  async #receive(count: number): Promise<Message[]> {
    const answer = await this.#sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.#sqs.dlqUrl,
        MaxNumberOfMessages: count,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        VisibilityTimeout: LOOK_SECONDS,
        WaitTimeSeconds: WAIT_SECONDS,
      }),
    );
    return answer.Messages ?? [];
  }

  /** Back on the main queue in the employee's group, with a new deduplication id (the old one would be dropped), then off the DLQ. */
  async #sendBack(queueUrl: string, message: Message, eventId: string | undefined): Promise<void> {
    const groupId = message.Attributes?.MessageGroupId;
    if (!groupId)
      throw new CliError(
        `dead letter ${message.MessageId} has no MessageGroupId; is --dlq-url a FIFO queue?`,
      );
    await this.#sqs.client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: message.Body ?? '',
        MessageGroupId: groupId,
        MessageDeduplicationId: redriveDeduplicationId(eventId ?? message.MessageId ?? '', this.#sqs.now()),
      }),
    );
    await this.#sqs.client.send(
      new DeleteMessageCommand({ QueueUrl: this.#sqs.dlqUrl, ReceiptHandle: message.ReceiptHandle }),
    );
  }

  /** Makes the messages it only looked at visible again at once, ten per call. */
  async #release(messages: Message[]): Promise<void> {
    for (let start = 0; start < messages.length; start += RECEIVE_MAX) {
      const page = messages.slice(start, start + RECEIVE_MAX);
      await this.#sqs.client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.#sqs.dlqUrl,
          Entries: page.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
  }
}

/** `<eventId>#redrive-<ms>`, within SQS's 128 characters (a very long id is hashed). */
function redriveDeduplicationId(eventId: string, nowMs: number): string {
  const suffix = `#redrive-${nowMs}`;
  const id =
    eventId.length + suffix.length <= 128 ? eventId : createHash('sha256').update(eventId).digest('hex');
  return `${id}${suffix}`;
}

function eventIdOf(message: Message): string | undefined {
  try {
    const id = (JSON.parse(message.Body ?? '') as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

function rowOf(message: Message): DeadLetterRow {
  const sent = Number(message.Attributes?.SentTimestamp);
  const count = Number(message.MessageAttributes?.receiveCount?.StringValue);
  return {
    eventId: eventIdOf(message) ?? `(unreadable body, message ${message.MessageId})`,
    employeeKey: message.Attributes?.MessageGroupId ?? '',
    reason: message.MessageAttributes?.reason?.StringValue ?? '',
    deadAt: Number.isFinite(sent) && sent > 0 ? new Date(sent).toISOString() : '',
    ...(Number.isInteger(count) && count > 0 ? { receiveCount: count } : {}),
  };
}
