import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventItemKey, webhookIdItemKey } from '../../functions/core/adapters/dynamodb';
import { ingestCredentialsFrom, trueFoundryCredentialsFrom } from '../../functions/lambda/secrets';
import { type LocalDynamoDb, startDynalite } from '../support/dynalite';
import { hireEvent, INGEST_TOKEN, signed, WEBHOOK_SECRET } from '../support/ingest-harness';
import { httpApiEvent, lambdaContext, restApiEvent } from '../support/lambda-events';

const sqs = mockClient(SQSClient);
const secrets = mockClient(SecretsManagerClient);
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ingest-trust-AbCdEf';
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/hr-provisioning-events.fifo';
const OPERATOR_ARN = 'arn:aws:iam::123456789012:role/operator';

let dynamo: LocalDynamoDb;
let table: string;
let handler: (event: unknown, context: unknown) => Promise<APIGatewayProxyResult>;

beforeAll(async () => {
  dynamo = await startDynalite();
  table = await dynamo.createTable();
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
const sentCount = () => sqs.commandCalls(SendMessageBatchCommand).length;
const recorded = async (eventId: string) =>
  (await dynamo.client.send(new GetCommand({ TableName: table, Key: eventItemKey(eventId) }))).Item;

describe('gatewayAuthorized is honoured on the IAM routes only', () => {
  it('REST API: IAM identity on POST /events (not an IAM route) without a signature or token → 401, nothing recorded', async () => {
    const answer = await invoke(
      restApiEvent({
        method: 'POST',
        path: '/events',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(hireEvent('iam-post-1')),
        iamUserArn: OPERATOR_ARN,
      }),
    );

    expect(answer.statusCode).toBe(401);
    expect(answer.json).toMatchObject({
      error: 'unauthorized',
      message: expect.stringMatching(/missing credentials/),
    });
    expect(sentCount()).toBe(0);
    expect(await recorded('iam-post-1')).toBeUndefined();
  });

  it('HTTP API: the same on POST /batch', async () => {
    const answer = await invoke(
      httpApiEvent({
        method: 'POST',
        path: '/batch',
        headers: { 'content-type': 'text/csv' },
        body: 'id,type,email\niam-batch-1,hire,a@example.com\n',
        iamUserArn: OPERATOR_ARN,
      }),
    );

    expect(answer.statusCode).toBe(401);
    expect(sentCount()).toBe(0);
    expect(await recorded('iam-batch-1')).toBeUndefined();
  });

  it('on an IAM route (GET /events/{id}) the identity is enough', async () => {
    const post = await invoke(
      restApiEvent({
        method: 'POST',
        path: '/events',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${INGEST_TOKEN}` },
        body: JSON.stringify(hireEvent('iam-read-1')),
        iamUserArn: OPERATOR_ARN,
      }),
    );
    const read = await invoke(
      restApiEvent({ method: 'GET', path: '/events/iam-read-1', iamUserArn: OPERATOR_ARN }),
    );

    expect(post.statusCode).toBe(202);
    expect(read).toMatchObject({ statusCode: 200, json: { id: 'iam-read-1' } });
  });
});

describe('webhook-ids on AWS: WEBHOOK#<id> items in the state table', () => {
  const signedPost = (body: string, id: string) =>
    restApiEvent({
      method: 'POST',
      path: '/events',
      headers: {
        'content-type': 'application/json',
        ...signed(body, WEBHOOK_SECRET, Math.floor(Date.now() / 1000), id),
      },
      body,
    });

  it('a second body under the same webhook-id → 409 naming it; the same body again is a duplicate', async () => {
    const first = JSON.stringify(hireEvent('wh-1'));
    expect((await invoke(signedPost(first, 'msg_lambda'))).statusCode).toBe(202);
    const item = await dynamo.client.send(
      new GetCommand({ TableName: table, Key: webhookIdItemKey('msg_lambda') }),
    );
    expect(item.Item).toMatchObject({
      pk: 'WEBHOOK#msg_lambda',
      sk: 'WEBHOOK',
      expiresAt: expect.any(Number),
    });

    const other = JSON.stringify(hireEvent('wh-2', 'eve@example.com'));
    const refused = await invoke(signedPost(other, 'msg_lambda'));
    expect(refused.statusCode).toBe(409);
    expect(refused.json.message).toContain('webhook-id msg_lambda');
    expect(await recorded('wh-2')).toBeUndefined();

    const retry = await invoke(signedPost(first, 'msg_lambda'));
    expect(retry).toMatchObject({ statusCode: 202, json: { events: [{ id: 'wh-1', duplicate: true }] } });
    expect(sentCount()).toBe(1);
  });
});

describe('secrets read on AWS are checked for strength, naming the field and never the value', () => {
  it('a one-byte whsec_ key or a short BambooHR key in the ingest secret', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:weak-ingest-AbCdEf';
    const weak = `whsec_${Buffer.from('k').toString('base64')}`;
    secrets
      .on(GetSecretValueCommand, { SecretId: arn })
      .resolves({ SecretString: JSON.stringify({ webhookSecret: weak, bamboohrWebhookKey: 'short-key' }) });

    const failure = ingestCredentialsFrom(arn)();
    await expect(failure).rejects.toThrow(
      /webhookSecret: must be whsec_ followed by at least 24 random bytes/,
    );
    await expect(failure).rejects.toThrow(/bamboohrWebhookKey: must be at least 16 characters/);
    await failure.catch((error: Error) => {
      expect(error.message).not.toContain(weak);
      expect(error.message).not.toContain('short-key');
    });
  });

  it('an http:// TrueFoundry base URL (the API key would travel in clear text)', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tfy-http-AbCdEf';
    secrets.on(GetSecretValueCommand, { SecretId: arn }).resolves({
      SecretString: JSON.stringify({ baseUrl: 'http://acme.truefoundry.cloud', apiKey: 'tfy-key-123' }),
    });

    const failure = trueFoundryCredentialsFrom(arn)({ fresh: true });
    await expect(failure).rejects.toThrow(/baseUrl: must be https/);
    await failure.catch((error: Error) => expect(error.message).not.toContain('tfy-key-123'));
  });

  it('https, and http to loopback, are taken', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tfy-ok-AbCdEf';
    secrets
      .on(GetSecretValueCommand, { SecretId: arn })
      .resolves({ SecretString: JSON.stringify({ baseUrl: 'http://127.0.0.1:4010', apiKey: 'k' }) });
    await expect(trueFoundryCredentialsFrom(arn)({ fresh: true })).resolves.toEqual({
      baseUrl: 'http://127.0.0.1:4010',
      apiKey: 'k',
    });
  });
});
