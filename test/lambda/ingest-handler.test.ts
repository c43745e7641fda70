import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalDynamoDb, startDynalite } from '../support/dynalite';
import { hireEvent, INGEST_TOKEN, signed, WEBHOOK_SECRET } from '../support/ingest-harness';
import { httpApiEvent, lambdaContext, restApiEvent } from '../support/lambda-events';

const sqs = mockClient(SQSClient);
const secrets = mockClient(SecretsManagerClient);
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ingest-AbCdEf';
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/hr-provisioning-events.fifo';

let dynamo: LocalDynamoDb;
let handler: (event: unknown, context: unknown) => Promise<APIGatewayProxyResult>;

beforeAll(async () => {
  dynamo = await startDynalite();
  const table = await dynamo.createTable();
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    TABLE_NAME: table,
    QUEUE_URL,
    INGEST_SECRET_ARN: SECRET_ARN,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  // The module reads its environment at load, as on a cold start.
  handler = (await import('../../functions/ingest')).handler as unknown as typeof handler;
});

afterAll(async () => {
  await dynamo.close();
  sqs.restore();
  secrets.restore();
});

beforeEach(() => {
  sqs.reset();
  secrets.reset();
  sqs
    .on(SendMessageBatchCommand)
    .callsFake((input: { Entries: unknown[] }) => ({ Successful: input.Entries, Failed: [] }));
  secrets
    .on(GetSecretValueCommand, { SecretId: SECRET_ARN })
    .resolves({ SecretString: JSON.stringify({ webhookSecret: WEBHOOK_SECRET, ingestToken: INGEST_TOKEN }) });
});

const invoke = async (event: unknown) => {
  const result = await handler(event, lambdaContext('ingest'));
  return { ...result, json: JSON.parse(result.body) as Record<string, unknown> };
};
const sentEntries = () =>
  sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);

describe('ingest λ behind a REST API (v1 events)', () => {
  it('accepts an event with the bearer token, records it in DynamoDB and enqueues it FIFO', async () => {
    const body = JSON.stringify(hireEvent('lambda-1', 'Ada@Example.com'));
    const answer = await invoke(
      restApiEvent({
        method: 'POST',
        path: '/events',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${INGEST_TOKEN}` },
        body,
      }),
    );
    expect(answer).toMatchObject({
      statusCode: 202,
      json: { events: [{ id: 'lambda-1', status: 'queued' }] },
    });
    expect(sentEntries()).toEqual([
      expect.objectContaining({
        MessageGroupId: 'id:E-lambda-1',
        MessageDeduplicationId: 'lambda-1',
        MessageBody: expect.stringContaining('"email":"ada@example.com"'),
      }),
    ]);
    const status = await invoke(
      restApiEvent({
        method: 'GET',
        path: '/events/lambda-1',
        iamUserArn: 'arn:aws:iam::123456789012:role/operator',
      }),
    );
    expect(status).toMatchObject({ statusCode: 200, json: { id: 'lambda-1', status: 'queued' } });
  });

  it('takes a base64-encoded CSV batch', async () => {
    const csv =
      'id,type,employee_id,email,roles,occurred_at\nb64-1,hire,E1,b64@example.com,tenant-member,2026-11-29T09:00:00Z\n';
    const answer = await invoke(
      restApiEvent({
        method: 'POST',
        path: '/batch',
        headers: { 'content-type': 'text/csv', authorization: `Bearer ${INGEST_TOKEN}` },
        body: csv,
        base64: true,
      }),
    );
    expect(answer).toMatchObject({ statusCode: 202, json: { accepted: 1, rejected: [] } });
    expect(sentEntries().map((e) => e.MessageDeduplicationId)).toEqual(['b64-1']);
  });

  it('refuses GET /events/{id} without IAM identity or token, and says nothing of the secret', async () => {
    const answer = await invoke(restApiEvent({ method: 'GET', path: '/events/lambda-1' }));
    expect(answer.statusCode).toBe(401);
    expect(answer.body).not.toContain(INGEST_TOKEN);
  });

  it('rejects an invalid event with the field named, recording and enqueueing nothing', async () => {
    const answer = await invoke(
      restApiEvent({
        method: 'POST',
        path: '/events',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${INGEST_TOKEN}` },
        body: JSON.stringify({ ...hireEvent('lambda-bad'), employee: { id: 'E9', email: 'not-an-email' } }),
      }),
    );
    expect(answer).toMatchObject({ statusCode: 400, json: { issues: [{ path: 'employee.email' }] } });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    const status = await invoke(
      restApiEvent({
        method: 'GET',
        path: '/events/lambda-bad',
        iamUserArn: 'arn:aws:iam::123456789012:role/operator',
      }),
    );
    expect(status.statusCode).toBe(404);
  });

  it('answers 503 when SQS refuses, and enqueues exactly once when the sender retries', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error('ServiceUnavailable'));
    const request = restApiEvent({
      method: 'POST',
      path: '/events',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${INGEST_TOKEN}` },
      body: JSON.stringify(hireEvent('lambda-retry', 'grace@example.com')),
    });
    const refused = await invoke(request);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers?.['retry-after']).toBeDefined();

    sqs.reset();
    sqs
      .on(SendMessageBatchCommand)
      .callsFake((input: { Entries: unknown[] }) => ({ Successful: input.Entries }));
    expect((await invoke(request)).statusCode).toBe(202);
    expect((await invoke(request)).json).toMatchObject({ events: [{ id: 'lambda-retry', duplicate: true }] });
    expect(sentEntries().map((e) => e.MessageDeduplicationId)).toEqual(['lambda-retry']);
  });
});

describe('ingest λ behind an HTTP API (v2 events)', () => {
  it('accepts a Standard Webhooks signed event on a staged path', async () => {
    const body = JSON.stringify(hireEvent('lambda-v2', 'v2@example.com'));
    const answer = await invoke(
      httpApiEvent({
        method: 'POST',
        path: '/events',
        headers: { 'content-type': 'application/json', ...signed(body) },
        body,
      }),
    );
    expect(answer).toMatchObject({
      statusCode: 202,
      json: { events: [{ id: 'lambda-v2', status: 'queued' }] },
    });
    expect(sentEntries().map((e) => e.MessageGroupId)).toEqual(['id:E-lambda-v2']);
  });

  it('rejects a replayed signature (timestamp outside five minutes) without enqueueing', async () => {
    const body = JSON.stringify(hireEvent('lambda-replay'));
    const stale = signed(body, WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 6 * 60);
    const answer = await invoke(
      httpApiEvent({
        method: 'POST',
        path: '/events',
        headers: { 'content-type': 'application/json', ...stale },
        body,
      }),
    );
    expect(answer.statusCode).toBe(401);
    expect(answer.body).not.toContain(stale['webhook-signature'].split(',')[1]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('serves the health check without credentials', async () => {
    expect(await invoke(httpApiEvent({ method: 'GET', path: '/healthz' }))).toMatchObject({
      statusCode: 200,
      json: { status: 'ok' },
    });
  });
});
