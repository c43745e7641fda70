import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { createDynamoDbStateStore, StateTable } from './core/adapters/dynamodb';
import { DynamoDbWebhookIds } from './core/adapters/dynamodb/dynamodb-webhook-ids';
import { SqsEventQueue } from './core/adapters/sqs/sqs-event-queue';
import { createIngestApp } from './core/ingest/ingest-app';
import { powertoolsLog } from './core/observability/log';
import { forgetPerson } from './core/privacy/forget-person';
import { type ApiGatewayEvent, toIngestRequest, toProxyResult } from './lambda/api-gateway';
import { dynamoDb, sqs } from './lambda/aws-clients';
import { bundledIngestPolicy } from './lambda/bundled-policy';
import { ingestEnvironment, readEnvironment } from './lambda/environment';
import { logger, metrics, tracer } from './lambda/observability';
import { ingestCredentialsFrom } from './lambda/secrets';

/** Ingest λ: API Gateway → authenticate, validate, record, enqueue. Never calls TrueFoundry. */
const env = readEnvironment(ingestEnvironment);
const log = powertoolsLog(logger);
const state = createDynamoDbStateStore({
  client: dynamoDb,
  tableName: env.TABLE_NAME,
  retentionDays: env.RETENTION_DAYS,
});
const app = createIngestApp({
  store: state.events,
  queue: new SqsEventQueue({ client: sqs, queueUrl: env.QUEUE_URL }),
  credentials: ingestCredentialsFrom(env.INGEST_SECRET_ARN),
  webhookIds: new DynamoDbWebhookIds(new StateTable(dynamoDb, env.TABLE_NAME)),
  bamboohr: {
    ...(env.BAMBOOHR_COMPANY_DOMAIN ? { companyDomain: env.BAMBOOHR_COMPANY_DOMAIN } : {}),
    ...(env.BAMBOOHR_FIELD_LABELS ? { labels: env.BAMBOOHR_FIELD_LABELS } : {}),
  },
  // Written out literally: the stack's esbuild `define` replaces exactly this expression with the resolved policy.
  policy: bundledIngestPolicy(process.env.POLICY_JSON),
  // POST /forget, served by the operator λ (the IAM route): the SQS queues are not read here; the store
  // refuses while the person has events queued, and the CLI purges the dead-letter queue itself.
  forget: (target, by) => forgetPerson(target, by, { store: state, log }),
  log,
});

export const handler = middy(async (event: ApiGatewayEvent) =>
  toProxyResult(await app(toIngestRequest(event))),
)
  // Responses are not traced: GET /events bodies carry people's emails and names, traces must not.
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
