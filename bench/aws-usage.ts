import { readFileSync } from 'node:fs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  ChangeMessageVisibilityCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { type HrProvisioningConfig, readConfig } from '../lib/config';
import { startSandbox } from '../sandbox';
import { startDynalite } from '../test/support/dynalite';
import { lambdaContext, restApiEvent } from '../test/support/lambda-events';
import { DynamoMeter, type DynamoUsage, emptyDynamoUsage, LogMeter, type LogUsage } from './aws-meter';
import { isAnswered } from './call-log';
import { type Mix, mixedWorkload, seedExisting } from './mixed-events';

/*
 * What 10,000 events ask of AWS, measured on a sample: the real ingest and worker handlers (functions/ingest.ts,
 * functions/worker.ts, from source through tsx, not the bundles) in this process, configured as the stack
 * configures them from cdk.json (memory, rate, batch size, policy, role mapping, INFO logs), against DynamoDB on
 * dynalite (every request counted with its capacity units), the TrueFoundry sandbox over HTTP, and SQS and
 * Secrets Manager mocked at the SDK (every request counted). Lambda durations are the handlers' wall time here:
 * this machine, Node 20, dynalite's latency instead of DynamoDB's, the sandbox's instead of TrueFoundry's.
 *
 * Two ways events arrive:
 * - one at a time: each event its own POST /events (a webhook) and its own worker invocation;
 * - in bulk: POST /events with up to 500 events, worker batches of workerBatchSize, one after another.
 */

// The AWS SDK warns on Node 20 that its 2027 releases need Node 22; Lambda runs nodejs22.x.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/hr-provisioning-events.fifo';
const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/hr-provisioning-dlq.fifo';
const INGEST_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ingest-AbCdEf';
const TFY_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:truefoundry-AbCdEf';
const INGEST_TOKEN = 'bench-ingest-token-0123456789';
const EVENTS_PER_REQUEST = 500;
/** TrueFoundry's latency as the sandbox serves it: a SaaS control plane reached over the internet (assumed). */
export const TRUEFOUNDRY_LATENCY_MS = 100;

/** One handler's usage over a set of invocations. */
export type HandlerUsage = {
  invocations: number;
  durationsMs: number[];
  dynamo: DynamoUsage;
  logs: LogUsage;
  /** SQS requests the handler itself made, by command. */
  sqs: Record<string, number>;
  secretsCalls: number;
};

export type ArrivalUsage = {
  events: number;
  ingest: HandlerUsage;
  worker: HandlerUsage;
  trueFoundryCalls: number;
  failedRecords: number;
};

export type UsageSample = {
  config: Pick<
    HrProvisioningConfig,
    'ingestMemoryMb' | 'workerMemoryMb' | 'workerBatchSize' | 'workerMaxConcurrency' | 'tfyRateLimitRps'
  >;
  mix: Mix;
  oneAtATime: ArrivalUsage;
  bulk: ArrivalUsage;
  /** The dead-letter sweep the schedule runs every 5 minutes, once, with an empty dead-letter queue. */
  sweep: HandlerUsage;
  /** Secrets Manager reads of a function's first invocation: what each cold start costs. */
  secretsPerColdStart: { ingest: number; worker: number };
  /** Loading each handler module (its cold start's init, from source: an overestimate of the bundle's). */
  initMs: { ingest: number; worker: number };
  /** DynamoDB bytes an event leaves behind for the retention period (its items, ~100 bytes of overhead each). */
  storedBytesPerEvent: number;
};

type Handler<E, R> = (event: E, context: unknown) => Promise<R>;
type ApiResult = { statusCode: number; body: string };

const emptyHandlerUsage = (): HandlerUsage => ({
  invocations: 0,
  durationsMs: [],
  dynamo: emptyDynamoUsage(),
  logs: { bytes: 0, lines: 0 },
  sqs: {},
  secretsCalls: 0,
});

function addDynamo(into: DynamoUsage, from: DynamoUsage): void {
  for (const [command, n] of Object.entries(from.requests))
    into.requests[command] = (into.requests[command] ?? 0) + n;
  into.readUnits += from.readUnits;
  into.writeUnits += from.writeUnits;
  into.indexWriteUnits += from.indexWriteUnits;
  into.conditionFailures += from.conditionFailures;
}

function deployedConfig(): HrProvisioningConfig {
  const cdk = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return readConfig({ tryGetContext: (key) => cdk.context[key] });
}

function recordOf(entry: SendMessageBatchRequestEntry, seq: number): SQSRecord {
  return {
    messageId: `msg-${seq}`,
    receiptHandle: `receipt-${seq}`,
    body: entry.MessageBody ?? '',
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'AROAEXAMPLE:ingest',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      SequenceNumber: String(18_849_496_460_467_696_128n + BigInt(seq)),
      MessageGroupId: entry.MessageGroupId ?? '',
      MessageDeduplicationId: entry.MessageDeduplicationId ?? '',
    },
    messageAttributes: {},
    md5OfBody: 'e4e68fb7bd0e697a0ae8f1bb342846b3',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:hr-provisioning-events.fifo',
    awsRegion: 'us-east-1',
  };
}

/** Item size as DynamoDB bills storage: names and values, plus 100 bytes of overhead an item. */
async function storedBytes(client: DynamoDBDocumentClient, table: string): Promise<number> {
  let bytes = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) bytes += Buffer.byteLength(JSON.stringify(item)) + 100;
    start = page.LastEvaluatedKey;
  } while (start);
  return bytes;
}

export async function measureUsage(samples: { oneAtATime: Mix; bulk: Mix }): Promise<UsageSample> {
  const config = deployedConfig();
  const sandbox = await startSandbox({ faults: { latencyMs: TRUEFOUNDRY_LATENCY_MS } });
  const dynamo = await startDynalite();
  const sqs = mockClient(SQSClient);
  const secrets = mockClient(SecretsManagerClient);
  const logs = new LogMeter();
  try {
    const table = await dynamo.createTable();
    const sent: SendMessageBatchRequestEntry[] = [];
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
      sent.push(...input.Entries);
      return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })), Failed: [] };
    });
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-message' });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [] });
    secrets
      .on(GetSecretValueCommand, { SecretId: TFY_SECRET_ARN })
      .resolves({ SecretString: JSON.stringify({ baseUrl: sandbox.url, apiKey: sandbox.apiKey }) });
    secrets
      .on(GetSecretValueCommand, { SecretId: INGEST_SECRET_ARN })
      .resolves({ SecretString: JSON.stringify({ ingestToken: INGEST_TOKEN }) });

    // The environment the stack gives the functions (lib/hr-provisioning.ts), pointed at the local stand-ins.
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      TABLE_NAME: table,
      QUEUE_URL,
      DLQ_URL,
      INGEST_SECRET_ARN,
      TFY_SECRET_ARN,
      TFY_PROVISION_MODE: config.tfyProvisionMode,
      TFY_DELETE_AFTER_OFFBOARD: String(config.tfyDeleteAfterOffboard),
      TFY_RATE_LIMIT_RPS: String(config.tfyRateLimitRps),
      TFY_TIMEOUT_MS: String(Math.min(20_000, (config.workerTimeoutSeconds * 1000) / 4)),
      MAX_ATTEMPTS: String(config.maxAttempts),
      MAX_RECEIVE_COUNT: String(config.maxReceiveCount),
      RETENTION_DAYS: String(config.retentionDays),
      // The guard's own reads and writes are counted; its limit is raised so that no offboard is held.
      OFFBOARD_GUARD_MAX: '500',
      OFFBOARD_GUARD_WINDOW_MINUTES: String(config.offboardGuardWindowMinutes),
      ROLE_MAPPING_JSON: JSON.stringify(config.roleMapping),
      POLICY_JSON: JSON.stringify(config.policy),
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_SERVICE_NAME: 'hr-provisioning-worker-dev',
      POWERTOOLS_METRICS_NAMESPACE: 'HrProvisioning',
      POWERTOOLS_TRACE_ENABLED: 'false',
    });
    logs.install();
    logs.capturing = true;
    let loaded = performance.now();
    const worker = (await import('../functions/worker')).handler as unknown as Handler<
      unknown,
      SQSBatchResponse
    >;
    const workerInitMs = performance.now() - loaded;
    loaded = performance.now();
    const ingest = (await import('../functions/ingest')).handler as unknown as Handler<unknown, ApiResult>;
    const ingestInitMs = performance.now() - loaded;
    const { dynamoDb } = await import('../functions/commons/aws-clients');
    const meter = new DynamoMeter();
    meter.attach(dynamoDb);
    logs.take();

    let seq = 0;
    const sqsCounts = () => ({
      SendMessageBatch: sqs.commandCalls(SendMessageBatchCommand).length,
      SendMessage: sqs.commandCalls(SendMessageCommand).length,
      ChangeMessageVisibility: sqs.commandCalls(ChangeMessageVisibilityCommand).length,
      ReceiveMessage: sqs.commandCalls(ReceiveMessageCommand).length,
    });
    /** Runs one invocation and adds what it used to `usage`. */
    const invoke = async <E, R>(usage: HandlerUsage, handler: Handler<E, R>, event: E, name: string) => {
      const sqsBefore = sqsCounts();
      const secretsBefore = secrets.commandCalls(GetSecretValueCommand).length;
      meter.take();
      logs.take();
      const started = performance.now();
      const result = await handler(event, lambdaContext(name));
      usage.durationsMs.push(performance.now() - started);
      usage.invocations += 1;
      addDynamo(usage.dynamo, meter.take());
      const logged = logs.take();
      usage.logs.bytes += logged.bytes;
      usage.logs.lines += logged.lines;
      for (const [command, n] of Object.entries(sqsCounts())) {
        const made = n - sqsBefore[command as keyof typeof sqsBefore];
        if (made > 0) usage.sqs[command] = (usage.sqs[command] ?? 0) + made;
      }
      usage.secretsCalls += secrets.commandCalls(GetSecretValueCommand).length - secretsBefore;
      return result;
    };
    const post = (usage: HandlerUsage, events: unknown[]) =>
      invoke(
        usage,
        ingest,
        restApiEvent({
          method: 'POST',
          path: '/events',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${INGEST_TOKEN}` },
          body: JSON.stringify({ events }),
        }),
        'ingest',
      ).then((answer) => {
        if (answer.statusCode !== 202)
          throw new Error(`ingest answered ${answer.statusCode}: ${answer.body}`);
      });
    const work = async (usage: HandlerUsage, entries: SendMessageBatchRequestEntry[]) => {
      const answer = await invoke(
        usage,
        worker,
        { Records: entries.map((e) => recordOf(e, ++seq)) },
        'worker',
      );
      return answer.batchItemFailures.length;
    };

    // One at a time.
    const single = mixedWorkload(samples.oneAtATime, 'one');
    seedExisting(sandbox, single);
    const oneAtATime: ArrivalUsage = {
      events: single.events.length,
      ingest: emptyHandlerUsage(),
      worker: emptyHandlerUsage(),
      trueFoundryCalls: 0,
      failedRecords: 0,
    };
    const callsBefore = sandbox.calls().filter(isAnswered).length;
    for (const [index, event] of single.events.entries()) {
      if (index % 20 === 0) logs.say(`cost: one at a time, event ${index + 1} of ${single.events.length}`);
      const from = sent.length;
      await post(oneAtATime.ingest, [event]);
      oneAtATime.failedRecords += await work(oneAtATime.worker, sent.slice(from));
    }
    const secretsPerColdStart = {
      ingest: oneAtATime.ingest.secretsCalls,
      worker: oneAtATime.worker.secretsCalls,
    };
    oneAtATime.trueFoundryCalls = sandbox.calls().filter(isAnswered).length - callsBefore;

    // In bulk.
    const many = mixedWorkload(samples.bulk, 'bulk');
    seedExisting(sandbox, many);
    const bulk: ArrivalUsage = {
      events: many.events.length,
      ingest: emptyHandlerUsage(),
      worker: emptyHandlerUsage(),
      trueFoundryCalls: 0,
      failedRecords: 0,
    };
    const bulkCallsBefore = sandbox.calls().filter(isAnswered).length;
    const from = sent.length;
    for (let i = 0; i < many.events.length; i += EVENTS_PER_REQUEST) {
      await post(bulk.ingest, many.events.slice(i, i + EVENTS_PER_REQUEST));
    }
    const entries = sent.slice(from);
    for (let i = 0; i < entries.length; i += config.workerBatchSize) {
      if ((i / config.workerBatchSize) % 5 === 0)
        logs.say(`cost: in bulk, record ${i + 1} of ${entries.length}`);
      bulk.failedRecords += await work(bulk.worker, entries.slice(i, i + config.workerBatchSize));
    }
    bulk.trueFoundryCalls = sandbox.calls().filter(isAnswered).length - bulkCallsBefore;

    const sweep = emptyHandlerUsage();
    await invoke(sweep, worker, { action: 'sweep-dead-letters' }, 'worker');

    logs.capturing = false;
    const stored = await storedBytes(dynamo.client, table);
    return {
      config: {
        ingestMemoryMb: config.ingestMemoryMb,
        workerMemoryMb: config.workerMemoryMb,
        workerBatchSize: config.workerBatchSize,
        workerMaxConcurrency: config.workerMaxConcurrency,
        tfyRateLimitRps: config.tfyRateLimitRps,
      },
      mix: samples.bulk,
      oneAtATime,
      bulk,
      sweep,
      secretsPerColdStart,
      initMs: { ingest: ingestInitMs, worker: workerInitMs },
      storedBytesPerEvent: stored / (oneAtATime.events + bulk.events),
    };
  } finally {
    logs.capturing = false;
    logs.uninstall();
    sqs.restore();
    secrets.restore();
    await dynamo.close();
    await sandbox.close();
  }
}
