import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RecordsInProgress } from '../../functions/lambda/records-in-progress';
import type { CallRecord, Sandbox } from '../../sandbox';
import { startSandbox } from '../../sandbox';
import { type LocalDynamoDb, startDynalite } from '../support/dynalite';
import { event } from '../support/engine-harness';
import { fifoRecord, lambdaContext } from '../support/lambda-events';

/*
 * Directory pages on Lambda: the worker λ's backlog is the batch of SQS records it is running
 * (functions/lambda/records-in-progress.ts). A full batch of new hires reads one page instead of one user each;
 * a batch of a few reads each user, as before.
 */

const sqs = mockClient(SQSClient);
const secrets = mockClient(SecretsManagerClient);
const TFY_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:truefoundry-AbCdEf';

let sandbox: Sandbox;
let dynamo: LocalDynamoDb;
let handler: (event: unknown, context: unknown) => Promise<SQSBatchResponse>;

beforeAll(async () => {
  sandbox = await startSandbox();
  dynamo = await startDynalite();
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    TABLE_NAME: await dynamo.createTable(),
    DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/hr-provisioning-dlq.fifo',
    TFY_SECRET_ARN,
    TFY_RATE_LIMIT_RPS: '200',
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
const run = (hires: ReturnType<typeof event>[]) =>
  handler(
    {
      Records: hires.map((e) =>
        fifoRecord(e, { groupId: e.employee.email, dedupId: e.id, receiveCount: 1, seq: ++seq }),
      ),
    },
    lambdaContext('worker'),
  );
const list = (c: CallRecord) => c.method === 'GET' && c.path.endsWith('/users');
const pageReads = () => sandbox.calls().filter((c) => list(c) && c.query.query === undefined);
const emailReads = () => sandbox.calls().filter((c) => list(c) && c.query.query !== undefined);

describe('directory pages on the worker λ', () => {
  it('a full batch of ten new hires reads one page, then creates and sets roles: 21 calls', async () => {
    const hires = Array.from({ length: 10 }, (_, i) => event('hire', `lambda${i}@example.com`));
    expect(await run(hires)).toEqual({ batchItemFailures: [] });
    expect(pageReads()).toHaveLength(1);
    expect(emailReads()).toHaveLength(0);
    expect(sandbox.calls()).toHaveLength(21);
    expect(sandbox.users().filter((u) => u.active && u.roles?.join() === 'tenant-viewer')).toHaveLength(10);
  });

  it('a batch of three reads each user, as before', async () => {
    const hires = Array.from({ length: 3 }, (_, i) => event('hire', `few${i}@example.com`));
    expect(await run(hires)).toEqual({ batchItemFailures: [] });
    expect(pageReads()).toHaveLength(0);
    expect(emailReads()).toHaveLength(3);
  });
});

describe('RecordsInProgress', () => {
  it('counts the records whose handling has started and not ended, failed ones too', async () => {
    const backlog = new RecordsInProgress();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const running = [
      backlog.track(() => held),
      backlog.track(() => held),
      backlog.track(async () => {
        await held;
        throw new Error('failed');
      }),
    ];
    expect(backlog.waiting()).toBe(3);
    release();
    await Promise.allSettled(running);
    expect(backlog.waiting()).toBe(0);
  });
});
