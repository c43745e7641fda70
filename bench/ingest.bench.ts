/**
 * `npx tsx bench/ingest.bench.ts`: how many single-event POST /events a second `npm start` answers 202, and
 * how fast, against a bare node:http server that only parses the JSON (bench/bare-ingest-server.ts),
 * measured side by side in one run with autocannon: 16 connections over loopback, each request a new event
 * (a distinct id and person). Both servers are child processes; autocannon runs in this one. Each gets a
 * warm-up first (JIT, SQLite's page cache), then the measured run.
 *
 * Targets (issue 14): ingest ≥ 25 % of the bare server's requests/s, p99 ≤ 10 ms; with durability kept: a
 * 202 means the event is committed and synced to disk (local/group-commit.ts).
 * BENCH_INGEST_SECONDS (default 10, times BENCH_SCALE) sets the measured run's length.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import autocannon, { type AutocannonResult } from 'autocannon';
import { removeDataDir, startRuntimeProcess } from '../test/support/runtime-process';
import { machineCpuMs, mainThreadCpuMs } from './cpu-usage';
import type { BenchModule, BenchResult, Figure, Series } from './figure';
import { runWhenMain } from './run-alone';
import { scaled } from './scale';

const CONNECTIONS = 16;
const SECONDS = Number(process.env.BENCH_INGEST_SECONDS ?? scaled(10));
const WARMUP_SECONDS = Math.min(3, SECONDS);
const TARGET_RATIO = 0.25;
const TARGET_P99_MS = 10;
const ROOT = new URL('../', import.meta.url).pathname;

/** The latency percentiles charted, as autocannon names them. */
const PERCENTILES = [
  ['p2_5', 2.5],
  ['p50', 50],
  ['p75', 75],
  ['p90', 90],
  ['p97_5', 97.5],
  ['p99', 99],
  ['p99_9', 99.9],
] as const;

type Load = { rps: number; result: AutocannonResult };

/** A measured run, and how busy the server's thread and the machine were meanwhile. */
type Measured = Load & {
  /** Main-thread CPU time per answered request, in microseconds. */
  cpuUsPerRequest: number;
  /** The share of the run the server's main thread was on a CPU. */
  threadBusy: number;
  /** The share of the machine's CPU time that was busy (every process, this bench's included). */
  machineBusy: number;
};

/** One new hire per request: distinct ids, so each is recorded and enqueued, never a duplicate. */
function eventBody(prefix: string, n: number): string {
  return JSON.stringify({
    id: `${prefix}-${n}`,
    type: 'hire',
    occurredAt: '2026-11-29T09:00:00Z',
    employee: { id: `${prefix}-E${n}`, email: `${prefix}-${n}@example.com`, name: `Ingest ${n}` },
    roles: ['tenant-member'],
  });
}

async function load(url: string, token: string, prefix: string, seconds: number): Promise<Load> {
  let next = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/events',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: eventBody(prefix, next++) }),
      },
    ],
  });
  return { rps: result['2xx'] / result.duration, result };
}

/** Warm-up, then the measured run, against the server whose main thread is `pid`. */
async function measure(url: string, token: string, name: string, pid: number): Promise<Measured> {
  const run = `${name}-${Date.now().toString(36)}`;
  await load(url, token, `${run}-warm`, WARMUP_SECONDS);
  const cpuBefore = mainThreadCpuMs(pid);
  const machineBefore = machineCpuMs();
  const started = performance.now();
  const measured = await load(url, token, run, SECONDS);
  const wallMs = performance.now() - started;
  const cpuMs = mainThreadCpuMs(pid) - cpuBefore;
  const machineAfter = machineCpuMs();
  return {
    ...measured,
    cpuUsPerRequest: (cpuMs * 1000) / Math.max(1, measured.result['2xx']),
    threadBusy: cpuMs / wallMs,
    machineBusy:
      (machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total),
  };
}

async function startBareServer(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bare-ingest-server.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`the bare server exited with ${code}: ${output}`)));
  });
  return { url, child };
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function measureBare(): Promise<Measured> {
  const bare = await startBareServer();
  try {
    if (bare.child.pid === undefined) throw new Error('the bare server has no process id');
    return await measure(bare.url, 'unused', 'bare', bare.child.pid);
  } finally {
    await stopChild(bare.child);
  }
}

async function measureRuntime(): Promise<Measured> {
  // As `npm start` ships (its built-in sandbox, 20 TrueFoundry calls/s for the workers meanwhile), but WARN:
  // at INFO each request writes an access line into the pipe this process reads, which it would pay for.
  const runtime = await startRuntimeProcess({ LOG_LEVEL: 'WARN' });
  try {
    // The runtime's data-dir lock names its process (local/data-dir-lock.ts): node itself, no wrapper.
    const pid = Number(readFileSync(join(runtime.dataDir, 'runtime.pid'), 'utf8'));
    return await measure(runtime.url, runtime.token, 'ingest', pid);
  } finally {
    await runtime.stop();
    removeDataDir(runtime.dataDir);
  }
}

export function figuresOf(ingest: Measured, bare: Measured): BenchResult {
  const ratio = ingest.rps / bare.rps;
  const p99 = ingest.result.latency.p99;
  const failed = ingest.result.non2xx + ingest.result.errors;
  const percent = (share: number) => `${Math.round(share * 100)} %`;
  const cpu = `${Math.round(ingest.cpuUsPerRequest)} µs of CPU a request (the bare server ${Math.round(bare.cpuUsPerRequest)} µs)`;
  const machine = `the machine's ${cpus().length} cores were ${percent(ingest.machineBusy)} busy meanwhile`;
  // From the measurements: a thread busy all the run was limited by its own work; one that was not waited.
  const limit =
    ingest.threadBusy >= 0.85
      ? `the runtime's thread was busy ${percent(ingest.threadBusy)} of the run, at ${cpu}: auth, validation, the SQLite writes and their commit`
      : `the runtime's thread was busy only ${percent(ingest.threadBusy)} of the run (${cpu}): requests waited for their group's WAL sync, or for a CPU; ${machine}`;
  const details = {
    connections: CONNECTIONS,
    seconds: SECONDS,
    accepted: ingest.result['2xx'],
    'non-2xx or errors': failed,
    'CPU µs a request (runtime thread)': Math.round(ingest.cpuUsPerRequest),
    'CPU µs a request (bare server)': Math.round(bare.cpuUsPerRequest),
    'runtime thread busy': percent(ingest.threadBusy),
    'machine busy': percent(ingest.machineBusy),
    'bare requests': bare.result['2xx'],
  };
  const ratioMet = ratio >= TARGET_RATIO && failed === 0;
  const figures: Figure[] = [
    {
      id: 'ingest.rps',
      label: 'POST /events, one event per request (npm start)',
      measured: Math.round(ingest.rps),
      unit: 'req/s',
      reference: { label: 'bare node:http, JSON parse only', value: Math.round(bare.rps), unit: 'req/s' },
      details,
    },
    {
      id: 'ingest.ratio',
      label: 'POST /events ÷ bare server, requests/s',
      measured: Number(ratio.toFixed(3)),
      unit: 'ratio',
      target: { text: `≥ ${TARGET_RATIO}`, met: ratioMet },
      ...(ratioMet ? {} : { reason: failed > 0 ? `${failed} requests were not answered 2xx` : limit }),
    },
    {
      id: 'ingest.p50',
      label: 'POST /events median latency',
      measured: ingest.result.latency.p50,
      unit: 'ms',
      reference: { label: 'bare server median', value: bare.result.latency.p50, unit: 'ms' },
    },
    {
      id: 'ingest.p99',
      label: 'POST /events p99 latency',
      measured: p99,
      unit: 'ms',
      reference: { label: 'bare server p99', value: bare.result.latency.p99, unit: 'ms' },
      target: { text: `≤ ${TARGET_P99_MS}`, met: p99 <= TARGET_P99_MS },
      ...(p99 <= TARGET_P99_MS
        ? {}
        : {
            reason: `with ${CONNECTIONS} requests in flight each waits for the others' turns on the thread and for its group's sync; ${limit}`,
          }),
    },
  ];
  const series: Series[] = [
    {
      id: 'ingest.latency',
      title: `Latency percentiles, ${CONNECTIONS} connections`,
      xLabel: 'percentile',
      yLabel: 'ms',
      lines: [
        {
          label: 'POST /events (npm start)',
          points: PERCENTILES.map(([key, p]) => [p, ingest.result.latency[key]]),
        },
        { label: 'bare node:http', points: PERCENTILES.map(([key, p]) => [p, bare.result.latency[key]]) },
      ],
      limit: { label: `p99 target ${TARGET_P99_MS} ms`, value: TARGET_P99_MS },
    },
  ];
  return { figures, series };
}

export const ingestBench: BenchModule = {
  name: 'ingest',
  async run() {
    const bare = await measureBare();
    const ingest = await measureRuntime();
    return figuresOf(ingest, bare);
  },
};
export default ingestBench;

runWhenMain(import.meta.url, ingestBench);
