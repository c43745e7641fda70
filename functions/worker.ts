import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger, metrics, tracer } from './lambda/observability';
import { processRecord } from './lambda/process-record';
import { workerDepsFromEnvironment } from './lambda/worker-deps';

/**
 * Worker λ: SQS FIFO batch → the convergence engine. The FIFO processor with skipGroupOnError holds back the
 * rest of a failing employee's group in the batch and lets every other employee through.
 */
const deps = workerDepsFromEnvironment();
const processor = new SqsFifoPartialProcessorAsync();

export const handler = middy(async (event: SQSEvent, context: Context) =>
  processPartialResponse(event, (record: SQSRecord) => processRecord(record, deps), processor, {
    context,
    skipGroupOnError: true,
  }),
)
  // Nor the worker's (the batch item failures): traces carry ids and timings, never people's data.
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
