/**
 * `npm run bench`: 300 new hires with explicit roles against the TrueFoundry sandbox limited to 100 calls/s
 * with 40 ms latency, through each runtime in turn (a child process each, a fresh sandbox each):
 *
 * - local: `npm start` (WORKER_CONCURRENCY 16, TFY_RATE_LIMIT_RPS 100); target ≤ 1.15 of the bound, < 1 % 429s.
 * - emulated: `npm run emulate`, the synthesized Lambda bundles on fauxqs, dynalite and the API Gateway
 *   adapter, with workerMaxConcurrency 5 and tfyRateLimitRps 100 (issue 11); target ≤ 1.3 of the bound,
 *   ≤ 2 % 429s.
 *
 * The bound is the minimal calls ÷ the rate: 3 calls a hire, so 900 calls ÷ 100/s = 9 s. A missed target is
 * printed as missed, with its likely reason, and the bench exits 0 either way (it measures; it does not gate).
 * BENCH_HIRES, BENCH_RUNTIMES=local,emulated and WORKER_CONCURRENCY (local) change the run.
 */
import { startEmulatorProcess, startRuntimeProcess } from '../test/support/runtime-process';
import { type DrainResult, drain, MINIMAL_CALLS_PER_HIRE } from './drain';

const HIRES = Number(process.env.BENCH_HIRES ?? 300);
const RATE = 100;
const LATENCY_MS = 40;
const WORKER_MAX_CONCURRENCY = 5;
const RUNTIMES = (process.env.BENCH_RUNTIMES ?? 'local,emulated').split(',').map((r) => r.trim());

type Runtime = {
  name: 'local' | 'emulated';
  label: string;
  targetRatio: number;
  /** The share of 429s must stay under (strict) or at most (not strict) this. */
  target429: number;
  strict429: boolean;
  run(): Promise<DrainResult>;
};

export const runtimes: Runtime[] = [
  {
    name: 'local',
    label: `npm start (WORKER_CONCURRENCY ${process.env.WORKER_CONCURRENCY ?? '16'}, TFY_RATE_LIMIT_RPS ${RATE})`,
    targetRatio: 1.15,
    target429: 0.01,
    strict429: true,
    run: () =>
      drain(
        (sandbox) =>
          startRuntimeProcess({
            TFY_BASE_URL: sandbox.url,
            TFY_API_KEY: sandbox.apiKey,
            TFY_RATE_LIMIT_RPS: String(RATE),
            WORKER_CONCURRENCY: process.env.WORKER_CONCURRENCY ?? '16',
          }),
        { hires: HIRES, rate: RATE, latencyMs: LATENCY_MS, pollMs: 20, deadlineMs: 60_000 },
      ),
  },
  {
    name: 'emulated',
    label: `npm run emulate (workerMaxConcurrency ${WORKER_MAX_CONCURRENCY}, tfyRateLimitRps ${RATE})`,
    targetRatio: 1.3,
    target429: 0.02,
    strict429: false,
    run: () =>
      drain(
        (sandbox) =>
          startEmulatorProcess({
            TFY_BASE_URL: sandbox.url,
            TFY_API_KEY: sandbox.apiKey,
            EMULATE_CONTEXT: JSON.stringify({
              workerMaxConcurrency: WORKER_MAX_CONCURRENCY,
              tfyRateLimitRps: RATE,
            }),
          }),
        // GET /events is an operator route: API Gateway throttles it to 5/s (burst 10), so poll at 4/s.
        { hires: HIRES, rate: RATE, latencyMs: LATENCY_MS, pollMs: 250, deadlineMs: 90_000 },
      ),
  },
];

type Row = { figure: string; measured: string; target: string; met: boolean | undefined; reason?: string };

export function rowsOf(runtime: Runtime, r: DrainResult): Row[] {
  const ratio = r.drainMs / r.boundMs;
  const share429 = r.calls === 0 ? 0 : r.throttled / r.calls;
  const callsPerHire = r.calls / r.hires;
  const ratioMet = r.completed && ratio <= runtime.targetRatio;
  const share429Met = runtime.strict429 ? share429 < runtime.target429 : share429 <= runtime.target429;
  const effectiveRps = r.calls / Math.max(0.001, r.lastCallMs / 1000);
  const ratioReason = !r.completed
    ? `only ${r.succeeded} of ${r.hires} succeeded within the deadline`
    : runtime.name === 'emulated'
      ? `the machine was CPU-bound: its ${r.cores} cores were ${(r.cpuBusy * 100).toFixed(0)} % busy while the calls ` +
        `averaged ${effectiveRps.toFixed(1)}/s of the ${RATE}/s the instances share. Everything of the ` +
        'deployment runs on them at once: five worker processes, the ingest function, dynalite and fauxqs ' +
        '(one process), the sandbox and this bench. Each hire costs about twenty DynamoDB requests (13 updates: ' +
        'attempt, person link, mark, step claims, steps and completions) and dynalite serves 500-950 writes a ' +
        `second on this machine; the ingest request alone took ${(r.ingestMs / 1000).toFixed(1)} s ` +
        `(${(r.ingestMs / r.boundMs).toFixed(2)}× the bound)` +
        (r.lastCallMs / r.boundMs <= runtime.targetRatio
          ? `; the calls ended at ${(r.lastCallMs / r.boundMs).toFixed(2)}× the bound, the rest is the poll and status writes`
          : '')
      : 'the rate limiter and the worker pool leave gaps in the 100 calls/s';
  const reason429 =
    runtime.name === 'emulated'
      ? 'the instances reserve calls on one shared schedule and pace them locally, so calls that leave paced but ' +
        'arrive bunched (CPU shared by the instances, event-loop stalls) overrun the tenant bucket of 10'
      : 'calls that leave paced but arrive bunched (event-loop stalls) overrun the tenant bucket of 10';
  const extraCalls = callsPerHire - MINIMAL_CALLS_PER_HIRE;
  return [
    {
      figure: 'drain time',
      measured: `${(r.drainMs / 1000).toFixed(2)} s${r.completed ? '' : ' (deadline)'} (last call ${(r.lastCallMs / 1000).toFixed(2)} s; ingest ${Math.round(r.ingestMs)} ms)`,
      target: '—',
      met: undefined,
    },
    {
      figure: 'rate-limit bound',
      measured: `${(r.boundMs / 1000).toFixed(2)} s (${r.hires} × ${MINIMAL_CALLS_PER_HIRE} calls ÷ ${RATE}/s)`,
      target: '—',
      met: undefined,
    },
    {
      figure: 'drain ÷ bound',
      measured: ratio.toFixed(3),
      target: `≤ ${runtime.targetRatio}`,
      met: ratioMet,
      reason: ratioReason,
    },
    {
      figure: 'calls per hire',
      measured: `${callsPerHire.toFixed(2)} (${r.calls} calls)`,
      target: `${MINIMAL_CALLS_PER_HIRE} + retries`,
      met: undefined,
      reason:
        extraCalls > 0.005
          ? `${(extraCalls * r.hires).toFixed(0)} calls over the minimal ${r.hires * MINIMAL_CALLS_PER_HIRE}: ${r.throttled} answered 429 and tried again`
          : undefined,
    },
    {
      figure: 'share of 429s',
      measured: `${(share429 * 100).toFixed(2)} % (${r.throttled})`,
      target: `${runtime.strict429 ? '<' : '≤'} ${runtime.target429 * 100} %`,
      met: share429Met,
      reason: reason429,
    },
    {
      figure: 'hires converged',
      measured: `${r.hires - r.notConverged} of ${r.hires} (${r.succeeded} succeeded)`,
      target: `${r.hires}`,
      met: r.notConverged === 0 && r.completed,
      reason: 'a hire ended without its user or roles in TrueFoundry',
    },
  ];
}

function printTable(title: string, rows: Row[]): void {
  const cells = rows.map((row) => [
    row.figure,
    row.measured,
    row.target,
    row.met === undefined ? '' : row.met ? 'met' : 'MISSED',
  ]);
  const header = ['figure', 'measured', 'target', 'met?'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) => `  ${c.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd();
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const c of cells) console.log(line(c));
  for (const row of rows) {
    if (row.met === false) console.log(`  MISSED ${row.figure}: likely because ${row.reason}`);
    else if (row.met === undefined && row.reason) console.log(`  note ${row.figure}: ${row.reason}`);
  }
}

async function main(): Promise<void> {
  const benchStarted = performance.now();
  console.log(
    `${HIRES} hires, sandbox at ${RATE} calls/s with ${LATENCY_MS} ms latency; runtimes: ${RUNTIMES.join(', ')}`,
  );
  const missed: string[] = [];
  const summary: Record<string, unknown> = {};
  for (const runtime of runtimes.filter((r) => RUNTIMES.includes(r.name))) {
    console.log(`\n${runtime.name}: starting ${runtime.label}…`);
    let result: DrainResult;
    try {
      result = await runtime.run();
    } catch (error) {
      console.log(`${runtime.name}: FAILED: ${error instanceof Error ? error.message : String(error)}`);
      missed.push(`${runtime.name}: did not run`);
      continue;
    }
    const rows = rowsOf(runtime, result);
    printTable(`${runtime.name}: ${runtime.label}, started in ${(result.startMs / 1000).toFixed(1)} s`, rows);
    for (const row of rows) if (row.met === false) missed.push(`${runtime.name}: ${row.figure}`);
    summary[runtime.name] = {
      drainMs: Math.round(result.drainMs),
      lastCallMs: Math.round(result.lastCallMs),
      boundMs: Math.round(result.boundMs),
      ratioToBound: Number((result.drainMs / result.boundMs).toFixed(3)),
      callsPerHire: Number((result.calls / result.hires).toFixed(2)),
      share429: Number(((result.throttled / Math.max(1, result.calls)) * 100).toFixed(2)),
      startMs: Math.round(result.startMs),
      pollAnswers: result.pollAnswers,
      cpuBusy: Number(result.cpuBusy.toFixed(2)),
    };
  }
  console.log(`\n${JSON.stringify(summary)}`);
  console.log(
    missed.length === 0
      ? `\nall targets met; the bench took ${((performance.now() - benchStarted) / 1000).toFixed(1)} s`
      : `\nMISSED: ${missed.join('; ')}; the bench took ${((performance.now() - benchStarted) / 1000).toFixed(1)} s`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
