import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { dynamoDb, sqs } from './commons/aws-clients';
import { buildIngestDeps } from './commons/build-deps';
import { log, logger, metrics, tracer } from './commons/powertools';
import { ingestFunctionSettings, readFunctionSettings } from './commons/settings';
import { createDynamoDbStateStore, SharedRateLimiter, StateTable } from './core/adapters/dynamodb';
import { DynamoDbWebhookIds } from './core/adapters/dynamodb/dynamodb-webhook-ids';
import { SqsEventQueue } from './core/adapters/sqs/sqs-event-queue';
import { createIngestApp } from './core/ingest/ingest-app';
import { type ApiGatewayEvent, toIngestRequest, toProxyResult } from './lambda/api-gateway';
import { bundledIngestPolicy } from './lambda/bundled-policy';
import { ingestCredentialsFrom, trueFoundryCredentialsFrom } from './lambda/secrets';
import { roleMappingOf } from './lambda/worker-deps';

/**
 * Ingest λ: API Gateway → authenticate, validate, record, enqueue. Writes nothing to TrueFoundry; previews
 * (`?dryRun=true`) and reconciliation only read it, at the tenant's one rate shared with the workers.
 */
const settings = readFunctionSettings(ingestFunctionSettings);
const table = new StateTable(dynamoDb, settings.TABLE_NAME);
const app = createIngestApp(
  buildIngestDeps(settings, {
    store: createDynamoDbStateStore({
      client: dynamoDb,
      tableName: settings.TABLE_NAME,
      retentionDays: settings.RETENTION_DAYS,
    }),
    queue: new SqsEventQueue({ client: sqs, queueUrl: settings.QUEUE_URL }),
    // POST /forget, served by the operator λ (the IAM route), has no queue to search here: the store refuses
    // while the person has events queued, and the CLI purges the dead-letter queue itself.
    credentials: ingestCredentialsFrom(settings.INGEST_SECRET_ARN),
    webhookIds: new DynamoDbWebhookIds(table),
    // Written out literally: the stack's esbuild `define` replaces exactly this expression with the resolved policy.
    policy: bundledIngestPolicy(process.env.POLICY_JSON),
    log,
    ...(settings.TFY_SECRET_ARN
      ? {
          trueFoundry: {
            trueFoundryCredentials: trueFoundryCredentialsFrom(settings.TFY_SECRET_ARN),
            rateLimiter: (rate) => new SharedRateLimiter(table, rate),
            // Written out literally, like the policy: the stack's `define` replaces it with the validated mapping.
            roleMapping: roleMappingOf(process.env.ROLE_MAPPING_JSON),
          },
        }
      : {}),
  }),
);

export const handler = middy(async (event: ApiGatewayEvent) =>
  toProxyResult(await app(toIngestRequest(event))),
)
  // Responses are not traced: GET /events bodies carry people's emails and names, traces must not.
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
