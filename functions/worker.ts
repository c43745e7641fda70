import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { deadlineIn, hasTimeForStep } from './core/engine/deadline';
import { MessageGroupSequencer } from './lambda/message-groups';
import { logger, metrics, tracer } from './lambda/observability';
import { holdBack, processRecord, retryDelayOf } from './lambda/process-record';
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
const processor = new BatchProcessor(EventType.SQS);

export const handler = middy(async (event: SQSEvent, context: Context) => {
  const deadline = deadlineIn(context.getRemainingTimeInMillis(), {
    marginMs: DEADLINE_MARGIN_MS,
    stepMs: deps.tfyTimeoutMs,
  });
  const groups = new MessageGroupSequencer({
    holdBack: (record, delayMs) => holdBack(record, delayMs, deps.queueUrl),
    delayOf: retryDelayOf,
    mayStart: () => hasTimeForStep(deadline, Date.now()),
  });
  return processPartialResponse(
    event,
    (record: SQSRecord) => groups.run(record, () => processRecord(record, deps, deadline)),
    processor,
    // Every record needing a retry is an ordinary outcome, not a Lambda error (which would raise the alarm).
    { context, throwOnFullBatchFailure: false, processInParallel: true },
  );
})
  // Nor the worker's (the batch item failures): traces carry ids and timings, never people's data.
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
