/**
 * `npx tsx bench/batch.bench.ts`: a generated 10,000-row CSV of new hires through the operator CLI
 * (`hr-provisioning batch FILE`, a child process, as an operator runs it) into `npm start` (another child
 * process), twice:
 *
 * - accepted rows per second, as the CLI reports it (from its first chunk to its last answer), into the
 *   runtime as it ships (TFY_RATE_LIMIT_RPS 20, its built-in sandbox), once the runtime has taken a first
 *   upload (its JIT warm; the first upload's rate is in the details); target ≥ 15,000 rows/s (issue 14);
 * - the time from the start of the upload until every row is terminal (the queue empty, no worker busy, every
 *   event succeeded), against a TrueFoundry sandbox with no rate limit and the runtime's pacer at
 *   TFY_RATE_LIMIT_RPS 1000, so that the drain shows what the pipeline can do rather than a tenant's limit.
 *
 * BENCH_BATCH_ROWS (default 10000, times BENCH_SCALE) and BENCH_BATCH_RATE (default 1000) change the run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from '../sandbox';
import {
  api,
  type RuntimeProcess,
  removeDataDir,
  startRuntimeProcess,
} from '../test/support/runtime-process';
import { mainThreadCpuMs } from './cpu-usage';
import type { BenchModule, BenchResult, Figure } from './figure';
import { runWhenMain } from './run-alone';
import { scaled } from './scale';

const ROWS = Number(process.env.BENCH_BATCH_ROWS ?? scaled(10_000, 500));
const RATE = Number(process.env.BENCH_BATCH_RATE ?? 1_000);
const TARGET_ROWS_PER_SECOND = 15_000;
/** Give up waiting for the drain after this long, and report how far it got. */
const DRAIN_DEADLINE_MS = 10 * 60_000;
const ROOT = new URL('../', import.meta.url).pathname;
const ROLES = ['tenant-member', 'tenant-admin', 'tenant-viewer'];

function batchCsv(rows: number, run: string): string {
  const lines = ['id,type,employee_id,email,name,roles,occurred_at'];
  for (let i = 0; i < rows; i++) {
    lines.push(
      `${run}-${i},hire,${run}-E${i},${run}-${i}@example.com,"Batch ${i}",${ROLES[i % 3]},2026-11-29T09:00:00Z`,
    );
  }
  return `${lines.join('\n')}\n`;
}

type CliRun = { code: number | null; stdout: string; stderr: string; wallMs: number };

/** `hr-provisioning batch <file>`, pointed at the runtime as an operator would point it. */
function runBatchCli(file: string, cwd: string, runtime: RuntimeProcess): Promise<CliRun> {
  const started = performance.now();
  const child = spawn(process.execPath, [join(ROOT, 'bin/hr-provisioning.mjs'), 'batch', file], {
    cwd,
    env: { ...process.env, HRP_URL: runtime.url, INGEST_TOKEN: runtime.token, DATA_DIR: runtime.dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve({ code, stdout, stderr, wallMs: performance.now() - started }));
  });
}

/** The rate on the CLI's last progress line: `batch: 10000/10000 rows (100%)  accepted … 15234 rows/s`. */
function reportedRowsPerSecond(stderr: string): number | undefined {
  const rates = [...stderr.matchAll(/ (\d+) rows\/s/g)].map((m) => Number(m[1]));
  return rates.at(-1);
}

type Health = { queue: { queued: number; inFlight: number }; workersBusy: number };

/** Polls GET /healthz until nothing is queued, in flight or being worked on; the time it took. */
async function waitUntilDrained(runtime: RuntimeProcess, since: number): Promise<number | undefined> {
  while (performance.now() - since < DRAIN_DEADLINE_MS) {
    const { status, json } = await api(runtime, 'GET', '/healthz');
    const health = json as unknown as Health;
    if (status === 200 && health.queue.queued + health.queue.inFlight + health.workersBusy === 0) {
      return performance.now() - since;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}

async function countSucceeded(runtime: RuntimeProcess): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const query = `/events?status=succeeded&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const { json } = await api(runtime, 'GET', query);
    count += (json.events as unknown[]).length;
    cursor = json.cursor as string | undefined;
  } while (cursor);
  return count;
}

type Upload = {
  cli: CliRun;
  rowsPerSecond: number;
  /** The runtime's main-thread CPU time per row over the command, in microseconds. */
  cpuUsPerRow: number;
  /** The share of the command's wall time the runtime's main thread was on a CPU. */
  threadBusy: number;
};

/** Writes a fresh CSV (new ids) and uploads it through the CLI; throws unless every row was accepted. */
async function upload(
  runtime: RuntimeProcess,
  work: string,
  name: string,
): Promise<Upload & { started: number }> {
  const file = join(work, `${name}.csv`);
  writeFileSync(file, batchCsv(ROWS, `${name}${Date.now().toString(36)}`));
  // The runtime's data-dir lock names its process (local/data-dir-lock.ts): node itself, no wrapper.
  const pid = Number(readFileSync(join(runtime.dataDir, 'runtime.pid'), 'utf8'));
  const cpuBefore = mainThreadCpuMs(pid);
  const started = performance.now();
  const cli = await runBatchCli(file, work, runtime);
  const cpuMs = mainThreadCpuMs(pid) - cpuBefore;
  if (cli.code !== 0)
    throw new Error(`the batch command exited with ${cli.code}:\n${cli.stderr}${cli.stdout}`);
  const rowsPerSecond = reportedRowsPerSecond(cli.stderr) ?? 0;
  return {
    cli,
    rowsPerSecond,
    cpuUsPerRow: (cpuMs * 1000) / ROWS,
    // Over the upload as the CLI timed it (its start and file reading left out): the runtime had little else
    // to do outside it.
    threadBusy: cpuMs / Math.max(1, (ROWS / Math.max(1, rowsPerSecond)) * 1000),
    started,
  };
}

/**
 * The upload alone, into `npm start` as it ships (TFY_RATE_LIMIT_RPS 20): the workers converge at the
 * tenant's pace meanwhile and take little of the process. Twice: the first upload into a fresh process runs
 * code the JIT has not compiled yet; the second is what a runtime that has been up a while does.
 */
async function measureUpload(work: string): Promise<{ cold: Upload; warm: Upload }> {
  const runtime = await startRuntimeProcess({});
  try {
    const cold = await upload(runtime, work, 'cold');
    return { cold, warm: await upload(runtime, work, 'warm') };
  } finally {
    await runtime.stop();
    removeDataDir(runtime.dataDir);
  }
}

type Drain = Upload & { drainMs: number | undefined; succeeded: number; calls: number };

/** The upload and the drain, against an unlimited sandbox with the pacer at RATE: the workers at full speed. */
async function measureDrain(work: string): Promise<Drain> {
  const sandbox = await startSandbox();
  const runtime = await startRuntimeProcess({
    TFY_BASE_URL: sandbox.url,
    TFY_API_KEY: sandbox.apiKey,
    TFY_RATE_LIMIT_RPS: String(RATE),
  });
  try {
    const uploaded = await upload(runtime, work, 'drain');
    const drainMs = await waitUntilDrained(runtime, uploaded.started);
    return { ...uploaded, drainMs, succeeded: await countSucceeded(runtime), calls: sandbox.calls().length };
  } finally {
    await runtime.stop();
    removeDataDir(runtime.dataDir);
    await sandbox.close();
  }
}

export function figuresOf(
  { cold, warm: accepted }: { cold: Upload; warm: Upload },
  drained: Drain,
): BenchResult {
  const met = accepted.rowsPerSecond >= TARGET_ROWS_PER_SECOND;
  const percent = (share: number) => `${Math.round(share * 100)} %`;
  const figures: Figure[] = [
    {
      id: 'batch.rowsPerSecond',
      label: `hr-provisioning batch, ${ROWS} rows, accepted per second`,
      measured: accepted.rowsPerSecond,
      unit: 'rows/s',
      target: { text: `≥ ${TARGET_ROWS_PER_SECOND}`, met },
      ...(met
        ? {}
        : {
            reason:
              accepted.threadBusy >= 0.85
                ? `the runtime's thread was busy ${percent(accepted.threadBusy)} of the upload, at ${Math.round(accepted.cpuUsPerRow)} µs of CPU a row: each row is parsed, checked against the event schema and the policy, and recorded and queued`
                : `the runtime's thread was busy only ${percent(accepted.threadBusy)} of the upload (${Math.round(accepted.cpuUsPerRow)} µs of CPU a row): the rest went to the CLI's side of each chunk, the WAL syncs, or other processes on the machine`,
          }),
      details: {
        'command wall time (ms)': Math.round(accepted.cli.wallMs),
        'rows/s over the whole command, its start included': Math.round(ROWS / (accepted.cli.wallMs / 1000)),
        'rows/s of the first upload into the fresh runtime': cold.rowsPerSecond,
        'rows/s while the workers drain at full speed': drained.rowsPerSecond,
        'CPU µs a row (runtime thread)': Math.round(accepted.cpuUsPerRow),
        'runtime thread busy': percent(accepted.threadBusy),
        chunks: Math.ceil(ROWS / 500),
      },
    },
    {
      id: 'batch.terminalMs',
      label: `time until every row is terminal (sandbox unlimited, pacer ${RATE} calls/s)`,
      measured: drained.drainMs === undefined ? DRAIN_DEADLINE_MS : Math.round(drained.drainMs),
      unit: 'ms',
      ...(drained.drainMs === undefined || drained.succeeded < ROWS
        ? { reason: `${drained.succeeded} of ${ROWS} rows succeeded within ${DRAIN_DEADLINE_MS / 1000} s` }
        : {}),
      details: {
        succeeded: drained.succeeded,
        'TrueFoundry calls': drained.calls,
        'calls per row': Number((drained.calls / ROWS).toFixed(2)),
        'events per second': drained.drainMs === undefined ? 0 : Math.round(ROWS / (drained.drainMs / 1000)),
      },
    },
  ];
  return { figures };
}

export const batchBench: BenchModule = {
  name: 'batch',
  async run(): Promise<BenchResult> {
    const work = mkdtempSync(join(tmpdir(), 'hrp-bench-batch-'));
    try {
      const uploads = await measureUpload(work);
      const drained = await measureDrain(work);
      return figuresOf(uploads, drained);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
};
export default batchBench;

runWhenMain(import.meta.url, batchBench);
