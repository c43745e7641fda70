import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { createDynamoDbStateStore } from './core/adapters/dynamodb';
import { SqsEventQueue } from './core/adapters/sqs/sqs-event-queue';
import { createIngestApp } from './core/ingest/ingest-app';
import { powertoolsLog } from './core/observability/log';
import { type ApiGatewayEvent, toIngestRequest, toProxyResult } from './lambda/api-gateway';
import { dynamoDb, sqs } from './lambda/aws-clients';
import { ingestEnvironment, readEnvironment } from './lambda/environment';
import { logger, metrics, tracer } from './lambda/observability';
import { ingestCredentialsFrom } from './lambda/secrets';

/** Ingest λ: API Gateway → authenticate, validate, record, enqueue. Never calls TrueFoundry. */
const env = readEnvironment(ingestEnvironment);
const app = createIngestApp({
  store: createDynamoDbStateStore({
    client: dynamoDb,
    tableName: env.TABLE_NAME,
    retentionDays: env.RETENTION_DAYS,
  }).events,
  queue: new SqsEventQueue({ client: sqs, queueUrl: env.QUEUE_URL }),
  credentials: ingestCredentialsFrom(env.INGEST_SECRET_ARN),
  bamboohr: {
    ...(env.BAMBOOHR_COMPANY_DOMAIN ? { companyDomain: env.BAMBOOHR_COMPANY_DOMAIN } : {}),
    ...(env.BAMBOOHR_FIELD_LABELS ? { labels: env.BAMBOOHR_FIELD_LABELS } : {}),
  },
  log: powertoolsLog(logger),
});

export const handler = middy(async (event: ApiGatewayEvent) =>
  toProxyResult(await app(toIngestRequest(event))),
)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
