/**
 * `npm run bench`: 300 new hires with explicit roles through the local runtime (a child process, exactly
 * `npm start`) against the TrueFoundry sandbox limited to 100 calls/s with 40 ms latency.
 * Prints elapsed ÷ (minimal calls ÷ 100/s), calls per hire and the share of 429 answers.
 * Target: ≤ 1.15 of the bound with under 1 % 429s.
 */
import { startSandbox } from '../sandbox';
import { api, newDataDir, removeDataDir, startRuntimeProcess } from '../test/support/runtime-process';

const HIRES = Number(process.env.BENCH_HIRES ?? 300);
const RATE = 100;
const LATENCY_MS = 40;
/** Per new hire: one exact-email read, one pre-register, one roles update. */
const MINIMAL_CALLS_PER_HIRE = 3;

async function main(): Promise<void> {
  const sandbox = await startSandbox({ faults: { latencyMs: LATENCY_MS, rateLimit: { rps: RATE } } });
  const dataDir = newDataDir();
  const runtime = await startRuntimeProcess(
    {
      TFY_BASE_URL: sandbox.url,
      TFY_API_KEY: sandbox.apiKey,
      TFY_RATE_LIMIT_RPS: String(RATE),
      WORKER_CONCURRENCY: process.env.WORKER_CONCURRENCY ?? '16',
    },
    dataDir,
  );
  try {
    const events = Array.from({ length: HIRES }, (_, i) => ({
      id: `bench-${i}`,
      type: 'hire',
      occurredAt: '2026-11-29T09:00:00Z',
      employee: { id: `B${i}`, email: `bench${i}@example.com`, name: `Bench ${i}` },
      roles: [i % 2 === 0 ? 'tenant-member' : 'tenant-admin'],
    }));
    const started = performance.now();
    for (let i = 0; i < events.length; i += 500) {
      const answer = await api(runtime, 'POST', '/events', { events: events.slice(i, i + 500) });
      if (answer.status !== 202)
        throw new Error(`ingest answered ${answer.status}: ${JSON.stringify(answer.json)}`);
    }
    const ingested = performance.now() - started;
    let done = 0;
    while (done < HIRES) {
      const { json } = await api(runtime, 'GET', `/events?status=succeeded&limit=500`);
      done = (json.events as unknown[]).length;
      if (done < HIRES) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const elapsed = performance.now() - started;

    const calls = sandbox.calls();
    const wrongRoles = events.filter(
      (e) =>
        sandbox
          .users()
          .find((u) => u.email === e.employee.email)
          ?.roles?.join() !== e.roles.join(),
    );
    if (wrongRoles.length > 0) throw new Error(`${wrongRoles.length} hires did not converge`);
    const throttled = calls.filter((c) => c.status === 429).length;
    const minimal = HIRES * MINIMAL_CALLS_PER_HIRE;
    const boundMs = (minimal / RATE) * 1000;
    const report = {
      hires: HIRES,
      rateLimit: `${RATE} calls/s`,
      latency: `${LATENCY_MS} ms`,
      ingestMs: Math.round(ingested),
      allSucceededMs: Math.round(elapsed),
      boundMs: Math.round(boundMs),
      ratioToBound: Number((elapsed / boundMs).toFixed(3)),
      callsPerHire: Number((calls.length / HIRES).toFixed(2)),
      minimalCallsPerHire: MINIMAL_CALLS_PER_HIRE,
      share429: `${((throttled / calls.length) * 100).toFixed(2)} %`,
    };
    console.log(JSON.stringify(report, null, 2));
    const ok = report.ratioToBound <= 1.15 && throttled / calls.length < 0.01;
    console.log(ok ? 'within target (≤ 1.15 of the bound, < 1 % 429s)' : 'OUTSIDE the target');
  } finally {
    await runtime.stop();
    removeDataDir(dataDir);
    await sandbox.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
