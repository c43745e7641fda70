import { setTimeout as sleep } from 'node:timers/promises';
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { backoffMs } from '../../engine/retry-delay';
import { EnqueueError, type EventQueue, type OutgoingMessage } from '../../queue/event-queue';

const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;
const LANES = 8;

type Failure = { eventId: string; reason: string; senderFault?: true };

export type SqsEventQueueOptions = {
  client: SQSClient;
  queueUrl: string;
  maxAttempts?: number;
  baseDelayMs?: number;
};

/**
 * SQS FIFO via SendMessageBatch (10 a call, within the 256 KiB batch limit), retrying only the entries
 * that failed. Messages are split into lanes by group and each lane is sent in order, so one person's
 * events keep their order while different people's go out in parallel.
 */
export class SqsEventQueue implements EventQueue {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;

  constructor(private readonly options: SqsEventQueueOptions) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 100;
  }

  async send(messages: OutgoingMessage[]): Promise<void> {
    const lanes = new Map<number, OutgoingMessage[]>();
    for (const message of messages) {
      const key = laneOf(message.groupId);
      const lane = lanes.get(key) ?? [];
      lane.push(message);
      lanes.set(key, lane);
    }
    const failures = await Promise.all([...lanes.values()].map((lane) => this.sendLane(lane)));
    const failed = failures.flat();
    if (failed.length > 0) {
      throw new EnqueueError(
        failed.map((f) => f.eventId),
        (failed.find((f) => !f.senderFault) ?? failed[0])?.reason ?? 'unknown',
        new Map(failed.filter((f) => f.senderFault).map((f) => [f.eventId, f.reason])),
      );
    }
  }

  private async sendLane(messages: OutgoingMessage[]): Promise<Failure[]> {
    const batches = [...batchesOf(messages)];
    for (const [index, batch] of batches.entries()) {
      const failed = await this.sendBatch(batch);
      if (failed.length > 0) {
        // Sending the lane's later messages would put a person's later events ahead of an earlier one that
        // is not queued; they are reported unsent instead, and the sender's retry queues them in order.
        const unsent = batches
          .slice(index + 1)
          .flat()
          .map((message) => ({
            eventId: message.eventId,
            reason: 'not sent: an earlier message of its lane failed',
          }));
        return [...failed, ...unsent];
      }
    }
    return [];
  }

  private async sendBatch(batch: OutgoingMessage[]): Promise<Failure[]> {
    let pending = batch.map((message, index) => ({ message, entryId: `m${index}` }));
    const permanent: Failure[] = [];
    let lastReason = '';
    for (let attempt = 1; attempt <= this.maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 1) await sleep(backoffMs(attempt - 1, { baseMs: this.baseDelayMs, jitter: 'equal' }));
      try {
        const answer = await this.options.client.send(
          new SendMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: pending.map(entryOf) }),
        );
        const failedById = new Map((answer.Failed ?? []).map((f) => [f.Id, f]));
        const retry: typeof pending = [];
        for (const entry of pending) {
          const failure = failedById.get(entry.entryId);
          if (!failure) continue;
          const reason = `${failure.Code}: ${failure.Message}`;
          // A sender fault (invalid entry) fails the same way again: reported at once, not retried. The
          // other failed entries of the same answer are still retried.
          if (failure.SenderFault)
            permanent.push({ eventId: entry.message.eventId, reason, senderFault: true });
          else {
            retry.push(entry);
            lastReason = reason;
          }
        }
        pending = retry;
      } catch (error) {
        lastReason = error instanceof Error ? error.message : String(error);
      }
    }
    return [...permanent, ...pending.map((p) => ({ eventId: p.message.eventId, reason: lastReason }))];
  }
}

function entryOf(pending: { message: OutgoingMessage; entryId: string }): SendMessageBatchRequestEntry {
  return {
    Id: pending.entryId,
    MessageBody: pending.message.body,
    MessageGroupId: pending.message.groupId,
    MessageDeduplicationId: pending.message.deduplicationId,
  };
}

/**
 * Batches of at most 10 entries and 256 KiB, with at most one message of a group each: when two of a
 * person's events shared a batch and only the first failed, retrying it would queue it behind the second.
 */
function* batchesOf(messages: OutgoingMessage[]): Generator<OutgoingMessage[]> {
  let batch: OutgoingMessage[] = [];
  let groups = new Set<string>();
  let bytes = 0;
  for (const message of messages) {
    const size = Buffer.byteLength(message.body);
    const full = batch.length === MAX_ENTRIES || (batch.length > 0 && bytes + size > MAX_BATCH_BYTES);
    if (full || groups.has(message.groupId)) {
      yield batch;
      batch = [];
      groups = new Set();
      bytes = 0;
    }
    batch.push(message);
    groups.add(message.groupId);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

function laneOf(groupId: string): number {
  let hash = 0;
  for (let i = 0; i < groupId.length; i++) hash = (hash * 31 + groupId.charCodeAt(i)) | 0;
  return Math.abs(hash) % LANES;
}
