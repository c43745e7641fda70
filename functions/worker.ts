import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { sqs } from './commons/aws-clients';
import { logger, metrics, tracer } from './commons/powertools';
import { deadlineIn, hasTimeForStep } from './core/engine/event-run';
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

/** The stack's schedule, every few minutes: events SQS dead-lettered by itself end `failed` (see the sweep). */
type SweepRequest = { action: typeof SWEEP_DEAD_LETTERS };

const isSweep = (event: SQSEvent | SweepRequest): event is SweepRequest =>
  (event as SweepRequest).action === SWEEP_DEAD_LETTERS;

export const handler = middy(async (event: SQSEvent | SweepRequest, context: Context) => {
  if (isSweep(event)) return sweep();
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
    event,
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

async function sweep(): Promise<SweepReport> {
  const report = await sweepDeadLetters(sqs, deps.dlqUrl, deps.store.events);
  metrics.addMetric('DeadLettersReconciled', MetricUnit.Count, report.reconciled.length);
  if (report.reconciled.length > 0)
    logger.warn('events SQS dead-lettered by itself, now failed', { eventIds: report.reconciled });
  return report;
}
