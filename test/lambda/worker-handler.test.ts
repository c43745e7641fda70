import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDynamoDbStateStore } from '../../functions/core/adapters/dynamodb';
import type { StateStore } from '../../functions/core/engine/ports';
import { type Sandbox, startSandbox } from '../../sandbox';
import { type LocalDynamoDb, startDynalite } from '../support/dynalite';
import { event } from '../support/engine-harness';
import { fifoRecord, lambdaContext, QUEUE_ARN } from '../support/lambda-events';

const sqs = mockClient(SQSClient);
const secrets = mockClient(SecretsManagerClient);
const TFY_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:truefoundry-AbCdEf';
const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/hr-provisioning-dlq.fifo';

let sandbox: Sandbox;
let dynamo: LocalDynamoDb;
let store: StateStore;
let handler: (event: unknown, context: unknown) => Promise<SQSBatchResponse>;

beforeAll(async () => {
  sandbox = await startSandbox();
  dynamo = await startDynalite();
  const table = await dynamo.createTable();
  store = createDynamoDbStateStore({ client: dynamo.client, tableName: table });
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    TABLE_NAME: table,
    DLQ_URL,
    TFY_SECRET_ARN,
    TFY_RATE_LIMIT_RPS: '200',
    MAX_RECEIVE_COUNT: '5',
    ROLE_MAPPING_JSON: JSON.stringify({ default: ['tenant-viewer'] }),
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  handler = (await import('../../functions/worker')).handler as unknown as typeof handler;
});

afterAll(async () => {
  await dynamo.close();
  await sandbox.close();
  sqs.restore();
  secrets.restore();
});

beforeEach(() => {
  sandbox.reset();
  sqs.reset();
  secrets.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-message' });
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
  secrets
    .on(GetSecretValueCommand, { SecretId: TFY_SECRET_ARN })
    .resolves({ SecretString: JSON.stringify({ baseUrl: sandbox.url, apiKey: sandbox.apiKey }) });
});

let seq = 0;
const recordOf = (e: ReturnType<typeof event>, receiveCount = 1) =>
  fifoRecord(e, { groupId: e.employee.email, dedupId: e.id, receiveCount, seq: ++seq });
const run = (...records: ReturnType<typeof recordOf>[]) =>
  handler({ Records: records }, lambdaContext('worker'));

describe('worker λ on SQS FIFO batches, against the sandbox and DynamoDB on dynalite', () => {
  it('converges a batch of hires and reports no failures', async () => {
    const hires = ['w1@example.com', 'w2@example.com', 'w3@example.com'].map((email) => event('hire', email));
    expect(await run(...hires.map((h) => recordOf(h)))).toEqual({ batchItemFailures: [] });
    // Different people's records run side by side: compare without the order they finished in.
    expect(
      sandbox
        .users()
        .map((u) => [u.email, u.roles])
        .sort(),
    ).toEqual([
      ['w1@example.com', ['tenant-viewer']],
      ['w2@example.com', ['tenant-viewer']],
      ['w3@example.com', ['tenant-viewer']],
    ]);
    for (const hire of hires) expect((await store.events.get(hire.id))?.status).toBe('succeeded');
  });

  it("holds back the rest of a failing employee's group in the batch, and no one else", async () => {
    sandbox.setFaults({ scripted: [{ method: 'POST', status: 503 }] });
    const first = recordOf(event('hire', 'held@example.com', { roles: ['tenant-member'] }));
    const second = recordOf(event('role_change', 'held@example.com', { roles: ['tenant-admin'] }));
    const other = recordOf(event('hire', 'free@example.com', { roles: ['tenant-member'] }));
    const answer = await run(first, second, other);
    expect(answer.batchItemFailures).toEqual([
      { itemIdentifier: first.messageId },
      { itemIdentifier: second.messageId },
    ]);
    expect(sandbox.users().map((u) => u.email)).toEqual(['free@example.com']);
    // The held-back role change never reached TrueFoundry.
    expect(
      sandbox.calls().filter((c) => c.path.endsWith('/roles') && JSON.stringify(c.body).includes('held@')),
    ).toEqual([]);
    const visibility = sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input);
    expect(visibility).toEqual([
      {
        QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/hr-provisioning-events.fifo',
        ReceiptHandle: first.receiptHandle,
        VisibilityTimeout: expect.any(Number),
      },
      // The held-back record comes back together with the one that failed, not after the whole timeout.
      {
        QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/hr-provisioning-events.fifo',
        ReceiptHandle: second.receiptHandle,
        VisibilityTimeout: visibility[0]?.VisibilityTimeout,
      },
    ]);
    expect(QUEUE_ARN).toContain('hr-provisioning-events.fifo');
  });

  it('moves a permanent failure to the DLQ with its reason and reports it done', async () => {
    sandbox.seedUser({ email: 'perm@example.com' });
    const change = event('role_change', 'perm@example.com', { roles: ['wizard'] });
    const record = recordOf(change);
    expect(await run(record)).toEqual({ batchItemFailures: [] });
    const [sent] = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(sent).toMatchObject({
      QueueUrl: DLQ_URL,
      MessageBody: record.body,
      MessageGroupId: 'perm@example.com',
      MessageAttributes: { reason: { DataType: 'String', StringValue: expect.stringContaining('wizard') } },
    });
    expect(await store.events.get(change.id)).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('422'),
    });
  });

  it('gives up on the last delivery of a transient failure: failed, and in the DLQ', async () => {
    sandbox.setFaults({ scripted: [{ method: 'POST', status: 503 }] });
    const hire = event('hire', 'last@example.com', { roles: ['tenant-member'] });
    expect(await run(recordOf(hire, 5))).toEqual({ batchItemFailures: [] });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
    expect(await store.events.get(hire.id)).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('gave up after 5 deliveries'),
    });
  });

  it('re-reads the TrueFoundry secret once after a 401 and goes on with the rotated key', async () => {
    const oldKey = sandbox.apiKey;
    sandbox.setApiKey('rotated-key');
    secrets
      .on(GetSecretValueCommand, { SecretId: TFY_SECRET_ARN })
      .resolvesOnce({ SecretString: JSON.stringify({ baseUrl: sandbox.url, apiKey: 'rotated-key' }) });
    try {
      // The cached secret (from earlier tests) still holds the old key; the 401 forces a fresh read.
      expect(await run(recordOf(event('offboard', 'rotate@example.com')))).toEqual({ batchItemFailures: [] });
      expect(sandbox.calls().map((c) => c.status)).toEqual([401, 200]);
      // One read: the cached value served the first call, the 401 forced exactly one fresh read.
      expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    } finally {
      sandbox.setApiKey(oldKey);
    }
  });

  it('dead-letters a message that is not an event, without calling TrueFoundry', async () => {
    const record = { ...recordOf(event('hire', 'junk@example.com')), body: '{"not":"an event"}' };
    expect(await run(record)).toEqual({ batchItemFailures: [] });
    expect(sandbox.calls()).toEqual([]);
    expect(
      sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageAttributes?.reason?.StringValue,
    ).toMatch(/not a valid event/);
  });
});
