import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { sqs } from './commons/aws-clients';
import { logger, metrics, tracer } from './commons/powertools';
import { SqsEventQueue } from './core/adapters/sqs/sqs-event-queue';
import { deadlineIn, hasTimeForStep } from './core/engine/event-run';
import { releaseDueEvents, type ScheduleSweepReport } from './core/schedule/release-due';
import { SWEEP_DEAD_LETTERS, type SweepReport, sweepDeadLetters } from './lambda/dead-letter-sweep';
import { MessageGroupSequencer } from './lambda/message-groups';
import { processRecord, retryDelayOf } from './lambda/process-record';
import { SqsRecordQueue } from './lambda/sqs-record-queue';
import { workerDepsFromEnvironment } from './lambda/worker-deps';

/** Kept back from the invocation's timeout to record outcomes and answer the event source. */
const DEADLINE_MARGIN_MS = 3_000;

/**
 * Worker λ: SQS FIFO batch → the convergence engine. Different people's records run side by side, each
 * person's in order; a failing record holds back the rest of its person's records in the batch, which come
 * back with it, and no other person's. The invocation's deadline (from the Lambda context) stops records
 * and steps that could not finish and aborts calls still in flight.
 */
const deps = workerDepsFromEnvironment();
const queue = new SqsRecordQueue(sqs, { dlqUrl: deps.dlqUrl, queueUrl: deps.queueUrl });
const processor = new BatchProcessor(EventType.SQS);

/**
 * The stack's schedules: every few minutes, events SQS dead-lettered by itself end `failed` (see the sweep);
 * every minute, scheduled events that are due go to the queue (core/schedule/release-due.ts).
 */
type ScheduledRequest = { action: typeof SWEEP_DEAD_LETTERS | typeof RELEASE_SCHEDULED };
export const RELEASE_SCHEDULED = 'release-scheduled';

const actionOf = (event: SQSEvent | ScheduledRequest): ScheduledRequest['action'] | undefined => {
  const action = (event as Partial<ScheduledRequest>).action;
  return action === SWEEP_DEAD_LETTERS || action === RELEASE_SCHEDULED ? action : undefined;
};

export const handler = middy(async (event: SQSEvent | ScheduledRequest, context: Context) => {
  const action = actionOf(event);
  if (action === SWEEP_DEAD_LETTERS) return sweep();
  if (action === RELEASE_SCHEDULED) return releaseScheduled();
  const batch = event as SQSEvent;
  const deadline = deadlineIn(context.getRemainingTimeInMillis(), {
    marginMs: DEADLINE_MARGIN_MS,
    stepMs: deps.tfyTimeoutMs,
  });
  const groups = new MessageGroupSequencer({
    holdBack: (record, delayMs) => queue.retryLater(record, delayMs),
    delayOf: retryDelayOf,
    mayStart: () => hasTimeForStep(deadline, Date.now()),
  });
  return processPartialResponse(
    batch,
    (record: SQSRecord) => groups.run(record, () => processRecord(record, queue, deps, deadline)),
    processor,
    // Every record needing a retry is an ordinary outcome, not a Lambda error (which would raise the alarm).
    { context, throwOnFullBatchFailure: false, processInParallel: true },
  );
})
  // Nor the worker's (the batch item failures): traces carry ids and timings, never people's data.
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));

async function releaseScheduled(): Promise<ScheduleSweepReport> {
  if (!deps.queueUrl) throw new Error('QUEUE_URL is not set: scheduled events cannot be queued');
  const report = await releaseDueEvents({
    store: deps.store,
    queue: new SqsEventQueue({ client: sqs, queueUrl: deps.queueUrl }),
    log: deps.log,
  });
  metrics.addMetric('ScheduledEventsReleased', MetricUnit.Count, report.released);
  return report;
}

async function sweep(): Promise<SweepReport> {
  const report = await sweepDeadLetters(sqs, deps.dlqUrl, deps.store.events);
  metrics.addMetric('DeadLettersReconciled', MetricUnit.Count, report.reconciled.length);
  if (report.reconciled.length > 0)
    logger.warn('events SQS dead-lettered by itself, now failed', { eventIds: report.reconciled });
  return report;
}
