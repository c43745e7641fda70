import { PRICES } from './aws-prices';
import type { ArrivalUsage, HandlerUsage, UsageSample } from './aws-usage';

/*
 * The cost model: what 10,000 events cost on AWS, from the usage measured on a sample (bench/aws-usage.ts)
 * scaled to 10,000 and priced with bench/aws-prices.ts. Two ways of arriving:
 *
 * - in bulk: a batch onboarding, POST /events with 500 events a request; the worker drains the backlog in
 *   batches of workerBatchSize with workerMaxConcurrency instances, all busy while the tenant's rate paces the
 *   calls (so each instance is billed for the whole drain); one cold start per instance; secrets re-read every
 *   5 minutes (their cache's age) per instance; every invocation traced (an upper bound of X-Ray's sampling).
 * - one at a time, minutes apart (the worst case): each event its own request and worker invocation, each
 *   finding its function cold (init billed, secrets read again) and each traced.
 *
 * A cold start's init is counted as billed duration (AWS bills the INIT phase of on-demand functions since
 * August 2025), measured as the time this process took to load the handler's sources: more than a bundle takes.
 *
 * What is not per event (secrets, alarms, dashboard, custom metrics, the 5-minute sweep, the event source
 * mapping's polling of an idle queue) is a monthly cost, listed apart.
 */

export const EVENTS = 10_000;
/** POST /events takes up to 1 MiB: 500 events a request in bulk (as the CLI's batch sends them). */
export const EVENTS_PER_REQUEST = 500;

/** Not measured here (no API Gateway, no Lambda service): per request or invocation, estimated. */
export const ESTIMATES = {
  /** API Gateway's JSON access log line (lib/ingest-api.ts's format, filled in). */
  accessLogBytes: 450,
  /** API Gateway's INFO execution log of a request without data tracing: about ten lines. */
  executionLogBytes: 1_500,
  /** Lambda's platform lines in JSON format (platform.start, platform.report). */
  platformLogBytes: 600,
  /** CloudWatch Logs bills each event's bytes plus 26 bytes of metadata. */
  logEventOverheadBytes: 26,
  /** The event source mapping's pollers while the queue is idle: long polls of 20 s (assumed 5 pollers). */
  idlePollsPerMonth: 5 * 3 * 60 * 24 * 30,
  /** The dashboard's and the functions' custom metrics (EMF): outcome counts per service. */
  customMetrics: 8,
  alarms: 6,
};

export type LineItem = { service: string; quantity: string; dollars: number };
export type Scenario = { name: string; items: LineItem[]; total: number };

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const gb = (bytes: number) => bytes / 1e9;
const count = (n: number) => Math.round(n).toLocaleString('en-US');

function logBytes(usage: HandlerUsage): number {
  return usage.logs.bytes + usage.logs.lines * ESTIMATES.logEventOverheadBytes;
}

/** What a scenario pays for DynamoDB, SQS sends by the handlers and logs, per event of the sample, scaled. */
function sharedItems(
  arrival: ArrivalUsage,
  scale: number,
  apiRequests: number,
  invocations: number,
): LineItem[] {
  const { ingest, worker } = arrival;
  const writeUnits = (ingest.dynamo.writeUnits + worker.dynamo.writeUnits) * scale;
  const indexUnits = (ingest.dynamo.indexWriteUnits + worker.dynamo.indexWriteUnits) * scale;
  const readUnits = (ingest.dynamo.readUnits + worker.dynamo.readUnits) * scale;
  const logged =
    (logBytes(ingest) + logBytes(worker)) * scale +
    apiRequests * (ESTIMATES.accessLogBytes + ESTIMATES.executionLogBytes) +
    invocations * ESTIMATES.platformLogBytes;
  return [
    {
      service: 'DynamoDB writes (on-demand)',
      quantity: `${count(writeUnits)} write units + ${count(indexUnits)} for the status index`,
      dollars: (writeUnits + indexUnits) * PRICES.dynamoWriteUnit,
    },
    {
      service: 'DynamoDB reads (on-demand)',
      quantity: `${count(readUnits)} read units`,
      dollars: readUnits * PRICES.dynamoReadUnit,
    },
    {
      service: 'CloudWatch Logs',
      quantity: `${(logged / 1e6).toFixed(1)} MB ingested (handlers measured; API Gateway and platform lines estimated), kept a month`,
      dollars: gb(logged) * (PRICES.logsIngestGb + PRICES.logsStorageGbMonth),
    },
  ];
}

function lambdaItem(name: string, seconds: number, memoryMb: number, invocations: number): LineItem {
  const gbSeconds = seconds * (memoryMb / 1024);
  return {
    service: `Lambda ${name}`,
    quantity: `${count(invocations)} invocations, ${count(gbSeconds)} GB-s (${memoryMb} MB arm64)`,
    dollars: gbSeconds * PRICES.lambdaGbSecond + invocations * PRICES.lambdaRequest,
  };
}

function sqsItem(requests: number, what: string): LineItem {
  return {
    service: 'SQS FIFO',
    quantity: `${count(requests)} requests (${what})`,
    dollars: requests * PRICES.sqsFifoRequest,
  };
}

function workerOwnSqs(arrival: ArrivalUsage): number {
  return sum(Object.values(arrival.worker.sqs));
}

export function bulkScenario(sample: UsageSample): Scenario {
  const { bulk, config } = sample;
  const scale = EVENTS / bulk.events;
  // A request carries up to 500 events however small the sample: the ingest time scales with the events.
  const apiRequests = Math.ceil(EVENTS / EVENTS_PER_REQUEST);
  const batches = bulk.worker.invocations * scale;
  const calls = bulk.trueFoundryCalls * scale;
  const drainSeconds = calls / config.tfyRateLimitRps;
  // A backlog keeps every instance busy for the whole drain while the shared rate paces the calls.
  const workerSeconds = Math.max(
    (sum(bulk.worker.durationsMs) / 1000) * scale,
    config.workerMaxConcurrency * drainSeconds,
  );
  const coldStarts = { ingest: 1, worker: config.workerMaxConcurrency };
  const initSeconds = {
    ingest: (coldStarts.ingest * sample.initMs.ingest) / 1000,
    worker: (coldStarts.worker * sample.initMs.worker) / 1000,
  };
  const secretReads =
    coldStarts.ingest * sample.secretsPerColdStart.ingest +
    coldStarts.worker * Math.ceil(drainSeconds / 300) * sample.secretsPerColdStart.worker;
  // SendMessageBatch carries 10 messages: the sends scale with the events, not with the requests.
  const sends = (bulk.ingest.sqs.SendMessageBatch ?? 0) * scale;
  const items: LineItem[] = [
    {
      service: 'API Gateway (REST)',
      quantity: `${count(apiRequests)} requests of 500 events`,
      dollars: apiRequests * PRICES.restApiRequest,
    },
    lambdaItem(
      'ingest',
      (sum(bulk.ingest.durationsMs) / 1000) * scale + initSeconds.ingest,
      config.ingestMemoryMb,
      apiRequests,
    ),
    lambdaItem('worker', workerSeconds + initSeconds.worker, config.workerMemoryMb, batches),
    sqsItem(
      sends + 2 * batches + workerOwnSqs(bulk) * scale,
      'SendMessageBatch of 10; the event source mapping receives and deletes a batch each; the worker’s own',
    ),
    ...sharedItems(bulk, scale, apiRequests, apiRequests + batches),
    {
      service: 'Secrets Manager',
      quantity: `${count(secretReads)} GetSecretValue (each instance re-reads every 5 minutes of a ${(drainSeconds / 60).toFixed(0)}-minute drain)`,
      dollars: secretReads * PRICES.secretsCall,
    },
    {
      service: 'X-Ray',
      quantity: `${count(apiRequests + batches)} traces (every request and invocation)`,
      dollars: (apiRequests + batches) * PRICES.xrayTrace,
    },
    { service: 'EventBridge', quantity: 'none per event (the sweep schedule is monthly)', dollars: 0 },
    storagePerMonth(sample),
  ];
  return { name: 'in bulk', items, total: sum(items.map((i) => i.dollars)) };
}

export function oneAtATimeScenario(sample: UsageSample): Scenario {
  const { oneAtATime: single, config } = sample;
  const scale = EVENTS / single.events;
  const requests = single.ingest.invocations * scale;
  const invocations = single.worker.invocations * scale;
  const items: LineItem[] = [
    {
      service: 'API Gateway (REST)',
      quantity: `${count(requests)} requests of one event`,
      dollars: requests * PRICES.restApiRequest,
    },
    lambdaItem(
      'ingest',
      (sum(single.ingest.durationsMs) / 1000) * scale + (requests * sample.initMs.ingest) / 1000,
      config.ingestMemoryMb,
      requests,
    ),
    lambdaItem(
      'worker',
      (sum(single.worker.durationsMs) / 1000) * scale + (invocations * sample.initMs.worker) / 1000,
      config.workerMemoryMb,
      invocations,
    ),
    sqsItem(
      (single.ingest.sqs.SendMessageBatch ?? 0) * scale + 2 * invocations + workerOwnSqs(single) * scale,
      'a send, a receive and a delete per event; the worker’s own',
    ),
    ...sharedItems(single, scale, requests, requests + invocations),
    {
      service: 'Secrets Manager',
      quantity: `${count(requests * sample.secretsPerColdStart.ingest + invocations * sample.secretsPerColdStart.worker)} GetSecretValue (every invocation cold)`,
      dollars:
        (requests * sample.secretsPerColdStart.ingest + invocations * sample.secretsPerColdStart.worker) *
        PRICES.secretsCall,
    },
    {
      service: 'X-Ray',
      quantity: `${count(requests + invocations)} traces (each alone in its second: X-Ray's reservoir samples all)`,
      dollars: (requests + invocations) * PRICES.xrayTrace,
    },
    { service: 'EventBridge', quantity: 'none per event (the sweep schedule is monthly)', dollars: 0 },
    storagePerMonth(sample),
  ];
  return {
    name: 'one at a time, minutes apart (worst case)',
    items,
    total: sum(items.map((i) => i.dollars)),
  };
}

/** What the deployment costs a month whatever the events: not part of the per-event figure. */
export function monthlyItems(sample: UsageSample): LineItem[] {
  const sweeps = 12 * 24 * 30;
  const sweepSeconds = (sum(sample.sweep.durationsMs) / sample.sweep.invocations / 1000) * sweeps;
  const sweepReceives = (sum(Object.values(sample.sweep.sqs)) / sample.sweep.invocations) * sweeps;
  return [
    { service: 'Secrets Manager', quantity: '2 secrets', dollars: 2 * PRICES.secretMonth },
    {
      service: 'dead-letter sweep (EventBridge every 5 minutes → worker)',
      quantity: `${count(sweeps)} invocations, ${count(sweepReceives)} SQS requests`,
      dollars:
        lambdaItem('sweep', sweepSeconds, sample.config.workerMemoryMb, sweeps).dollars +
        sweepReceives * PRICES.sqsFifoRequest +
        sweeps * PRICES.eventBridgeScheduledInvocation,
    },
    sqsItem(ESTIMATES.idlePollsPerMonth, "the event source mapping's long polls of an idle queue, estimated"),
    {
      service: 'CloudWatch',
      quantity: `${ESTIMATES.alarms} alarms, 1 dashboard, ~${ESTIMATES.customMetrics} custom metrics`,
      dollars:
        ESTIMATES.alarms * PRICES.alarmMonth +
        PRICES.dashboardMonth +
        ESTIMATES.customMetrics * PRICES.customMetricMonth,
    },
  ];
}

/** Storage an event leaves for the retention period: DynamoDB with continuous backups, per month kept. */
export function storagePerMonth(sample: UsageSample): LineItem {
  const bytes = sample.storedBytesPerEvent * EVENTS;
  return {
    service: 'DynamoDB storage and PITR',
    quantity: `${(bytes / 1e6).toFixed(1)} MB for 10,000 events, per month kept (retention)`,
    dollars: gb(bytes) * (PRICES.dynamoStorageGbMonth + PRICES.dynamoPitrGbMonth),
  };
}
