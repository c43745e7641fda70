import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { metrics } from '../commons/powertools';
import type { Deadline } from '../core/engine/event-run';
import { redactEmails } from '../core/privacy/redact';
import { type Consumed, type ConsumerQueue, consumeMessage } from '../core/queue/consume-message';
import { recordsInProgress } from './records-in-progress';
import type { WorkerDeps } from './worker-deps';

/** Thrown to report the record as a batch item failure: it comes back after its delay, its group waits. */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

/** How long the rest of a failed record's group waits: as long as the record itself. */
export const retryDelayOf = (error: unknown): number =>
  error instanceof RetryLaterError ? error.delayMs : 0;

const METRIC_OF: Record<string, string> = {
  succeeded: 'EventSucceeded',
  superseded: 'EventSuperseded',
  cancelled: 'EventCancelled',
  failed: 'EventFailed',
  retry: 'EventRetried',
  // The offboarding guard held it (or held it behind a held event of its person): the alarm watches this.
  held: 'HeldEvents',
};

/**
 * One SQS record through the consumer (core/queue/consume-message.ts), which applies the engine's verdict
 * with SQS calls (DLQ, visibility); a retry is then reported as a batch item failure, and so is an error,
 * which brings the record back after the queue's visibility timeout.
 */
export async function processRecord(
  record: SQSRecord,
  queue: ConsumerQueue<SQSRecord>,
  deps: WorkerDeps,
  deadline?: Deadline,
): Promise<void> {
  // Counted while it runs: the batch's records in progress are the backlog the engine reads pages for.
  const consumed = await recordsInProgress.track(() =>
    consumeMessage(record, queue, deps, deadline ? { deadline } : {}),
  );
  count(consumed);
  if (consumed.action === 'retry') {
    // The reason is in the event record and the log line; this error also reaches the Lambda runtime's
    // log and the trace when the whole batch fails, so its email is redacted like a log line's.
    throw new RetryLaterError(
      process.env.LOG_EMAILS === 'true' ? consumed.reason : redactEmails(consumed.reason),
      consumed.delayMs,
    );
  }
}

function count(consumed: Consumed): void {
  // A message dead-lettered before was counted then.
  if (consumed.action === 'already-dead-lettered') return;
  const outcome =
    consumed.action === 'delete' ? consumed.outcome.status : consumed.action === 'retry' ? 'retry' : 'failed';
  metrics.addMetric(METRIC_OF[outcome] ?? 'EventFailed', MetricUnit.Count, 1);
}
