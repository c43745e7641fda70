/**
 * Cost: what 10,000 events cost on AWS (us-east-1), target < $0.10. The usage is measured on a sample of
 * hires, role changes and offboards (4:1:1) run through the real ingest and worker handlers in this process
 * (bench/aws-usage.ts: DynamoDB on dynalite with capacity units, SQS and Secrets Manager counted at the SDK,
 * the handlers' log bytes, their durations), scaled to 10,000 and priced by the model in bench/cost.ts with the
 * list prices of bench/aws-prices.ts (dated there: check them). Lambda durations are the handlers' wall time
 * on this machine with the sandbox answering in 100 ms, not a Lambda's. BENCH_SCALE scales the samples.
 * A module of `npm run bench`; alone: `npx tsx bench/cost.bench.ts`.
 */
import { PRICE_REGION, PRICES_AS_OF } from './aws-prices';
import { type ArrivalUsage, measureUsage, TRUEFOUNDRY_LATENCY_MS, type UsageSample } from './aws-usage';
import { percentile } from './call-log';
import {
  bulkScenario,
  ESTIMATES,
  EVENTS,
  type LineItem,
  monthlyItems,
  oneAtATimeScenario,
  type Scenario,
} from './cost';
import type { BenchModule, Figure } from './figure';
import { runWhenMain } from './run-alone';
import { scaled } from './scale';

const TARGET_DOLLARS = 0.1;
const SAMPLES = {
  oneAtATime: { hires: scaled(80, 4), roleChanges: scaled(20, 1), offboards: scaled(20, 1) },
  bulk: { hires: scaled(200, 8), roleChanges: scaled(50, 2), offboards: scaled(50, 2) },
};

const money = (dollars: number) => `$${dollars.toFixed(4)}`;

function itemDetails(items: LineItem[]): Record<string, string> {
  return Object.fromEntries(items.map((item) => [item.service, `${money(item.dollars)} (${item.quantity})`]));
}

/** The line items that make up most of a total, largest first, for a missed target's reason. */
function largest(scenario: Scenario): string {
  const sorted = [...scenario.items].sort((a, b) => b.dollars - a.dollars);
  const top: LineItem[] = [];
  let covered = 0;
  for (const item of sorted) {
    if (covered >= scenario.total * 0.8 || item.dollars === 0) break;
    top.push(item);
    covered += item.dollars;
  }
  return top.map((item) => `${item.service} ${money(item.dollars)} (${item.quantity})`).join('; ');
}

function perEvent(arrival: ArrivalUsage): Record<string, number | string> {
  const n = arrival.events;
  const requests = { ...arrival.ingest.dynamo.requests };
  for (const [command, k] of Object.entries(arrival.worker.dynamo.requests))
    requests[command] = (requests[command] ?? 0) + k;
  return {
    'TrueFoundry calls per event': arrival.trueFoundryCalls / n,
    'DynamoDB requests per event': Object.entries(requests)
      .map(([command, k]) => `${command.replace(/Command$/, '')} ${(k / n).toFixed(2)}`)
      .join(', '),
    'DynamoDB write units per event (base table + status index)':
      (arrival.ingest.dynamo.writeUnits +
        arrival.worker.dynamo.writeUnits +
        arrival.ingest.dynamo.indexWriteUnits +
        arrival.worker.dynamo.indexWriteUnits) /
      n,
    'DynamoDB read units per event': (arrival.ingest.dynamo.readUnits + arrival.worker.dynamo.readUnits) / n,
    'log bytes per event (handlers)': (arrival.ingest.logs.bytes + arrival.worker.logs.bytes) / n,
    'ingest ms per invocation (median)': percentile(arrival.ingest.durationsMs, 50),
    'worker ms per invocation (median)': percentile(arrival.worker.durationsMs, 50),
    'records the worker failed': arrival.failedRecords,
  };
}

export function figuresOf(sample: UsageSample): Figure[] {
  const bulk = bulkScenario(sample);
  const single = oneAtATimeScenario(sample);
  const monthly = monthlyItems(sample);
  const assumptions = {
    prices: `${PRICE_REGION}, as of ${PRICES_AS_OF}; no free tier`,
    configuration: `cdk.json: ingest ${sample.config.ingestMemoryMb} MB, worker ${sample.config.workerMemoryMb} MB, batches of ${sample.config.workerBatchSize}, ${sample.config.workerMaxConcurrency} worker instances, ${sample.config.tfyRateLimitRps} TrueFoundry calls/s`,
    durations: `measured here (handlers from source on this machine, dynalite, TrueFoundry sandbox at ${TRUEFOUNDRY_LATENCY_MS} ms a call); init ${sample.initMs.worker.toFixed(0)} ms worker, ${sample.initMs.ingest.toFixed(0)} ms ingest (loading the sources: more than a bundle)`,
    estimated: `API Gateway logs ${ESTIMATES.accessLogBytes + ESTIMATES.executionLogBytes} B a request, Lambda platform lines ${ESTIMATES.platformLogBytes} B an invocation`,
    'secrets per cold start': `ingest ${sample.secretsPerColdStart.ingest}, worker ${sample.secretsPerColdStart.worker}`,
    samples: `${sample.oneAtATime.events} events one at a time, ${sample.bulk.events} in bulk (4:1:1 hires, role changes, offboards)`,
  };
  const bulkMet = bulk.total < TARGET_DOLLARS;
  const singleMet = single.total < TARGET_DOLLARS;
  return [
    {
      id: 'cost.bulk',
      label: `AWS cost of ${EVENTS.toLocaleString('en-US')} events in bulk (batch onboarding)`,
      measured: bulk.total,
      unit: '$',
      reference: { label: 'one at a time, worst case', value: single.total, unit: '$' },
      target: { text: `< $${TARGET_DOLLARS.toFixed(2)}`, met: bulkMet },
      ...(bulkMet ? {} : { reason: `most of it: ${largest(bulk)}` }),
      details: { ...assumptions, ...itemDetails(bulk.items), ...perEvent(sample.bulk) },
    },
    {
      id: 'cost.one-at-a-time',
      label: `AWS cost of ${EVENTS.toLocaleString('en-US')} events one at a time, minutes apart (worst case)`,
      measured: single.total,
      unit: '$',
      reference: { label: 'in bulk', value: bulk.total, unit: '$' },
      target: { text: `< $${TARGET_DOLLARS.toFixed(2)}`, met: singleMet },
      ...(singleMet
        ? {}
        : {
            reason:
              `each event pays alone what a batch shares: ${largest(single)}. ` +
              'Sent in batches (POST /batch, or /events with many events) the same events cost the bulk figure',
          }),
      details: { ...itemDetails(single.items), ...perEvent(sample.oneAtATime) },
    },
    {
      id: 'cost.monthly',
      label: 'AWS cost a month whatever the events (not in the figures above)',
      measured: monthly.reduce((total, item) => total + item.dollars, 0),
      unit: '$',
      details: itemDetails(monthly),
    },
  ];
}

export const costBench: BenchModule = {
  name: 'cost',
  async run() {
    console.log(
      `cost: measuring AWS usage on ${SAMPLES.oneAtATime.hires + SAMPLES.oneAtATime.roleChanges + SAMPLES.oneAtATime.offboards} events one at a time and ${SAMPLES.bulk.hires + SAMPLES.bulk.roleChanges + SAMPLES.bulk.offboards} in bulk…`,
    );
    const sample = await measureUsage(SAMPLES);
    return { figures: figuresOf(sample) };
  },
};

runWhenMain(import.meta.url, costBench);
