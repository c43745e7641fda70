import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { powertoolsLog } from '../core/privacy/redact';

// One instance each per cold start, shared by every invocation (Powertools' recommended pattern).
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'hr-provisioning' });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'HrProvisioning',
});
/*
 * Powertools Tracer adds to Lambda's own trace segment (active tracing, lib/service-function.ts) a subsegment
 * per invocation (ColdStart and Service annotations, the error) and one per AWS SDK call and outgoing HTTP
 * request. It is a cold start's largest cost after the AWS SDK (issue 14): the X-Ray SDK it loads is about
 * 110 KB of each bundle, and at init it hooks http, https and fetch: about a sixth of the ingest λ's module
 * init above an empty module's (80-90 of 500 million instructions under callgrind; bench/cold-start.bench.ts,
 * the no-tracer figure, times it). Kept: without it X-Ray shows each invocation as one opaque segment, with no
 * DynamoDB, SQS or TrueFoundry call in it, and those latencies are what the traces are read for. Loading it
 * lazily would only move the cost into the first invocation, which is traced. Dropping it (active tracing
 * alone) is the next lever should cold starts matter more than that.
 */
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'hr-provisioning' });

/** The core's Log port over the logger: emails are redacted there unless LOG_EMAILS is true. */
export const log = powertoolsLog(logger);
