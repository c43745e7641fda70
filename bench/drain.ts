/**
 * One drain for the bench: N new hires with explicit roles, posted to a runtime's HTTP API in one request,
 * timed until `GET /events?status=succeeded` lists them all, against a fresh TrueFoundry sandbox limited to
 * RATE calls/s with LATENCY_MS of latency. The runtime is a child process: `npm start` or `npm run emulate`.
 */
import { cpus } from 'node:os';
import { type Sandbox, startSandbox } from '../sandbox';
import { api, type RuntimeProcess, removeDataDir } from '../test/support/runtime-process';

/** Per new hire: one exact-email read, one pre-register, one roles update. */
export const MINIMAL_CALLS_PER_HIRE = 3;

export type DrainSettings = {
  hires: number;
  rate: number;
  latencyMs: number;
  /** How often to ask GET /events; the emulated operator routes are throttled (5/s, burst 10 by default). */
  pollMs: number;
  /** Give up (and report what drained) after this long. */
  deadlineMs: number;
};

export type DrainResult = {
  hires: number;
  succeeded: number;
  /** False when the deadline ran out first. */
  completed: boolean;
  ingestMs: number;
  /** First POST to the poll that saw every hire succeeded. */
  drainMs: number;
  /** First POST to the end of the last TrueFoundry call: the drain without the poll's granularity. */
  lastCallMs: number;
  startMs: number;
  boundMs: number;
  calls: number;
  throttled: number;
  notConverged: number;
  pollAnswers: Record<string, number>;
  /** The share of the machine's CPU time that was busy from the first POST to the end of the drain. */
  cpuBusy: number;
  cores: number;
};

/** Busy and total CPU time of every core so far (os.cpus() counts since boot). */
function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

export async function drain(
  start: (sandbox: Sandbox) => Promise<RuntimeProcess>,
  settings: DrainSettings,
): Promise<DrainResult> {
  const { hires, rate, latencyMs } = settings;
  const sandbox = await startSandbox({ faults: { latencyMs, rateLimit: { rps: rate } } });
  let runtime: RuntimeProcess | undefined;
  try {
    const launched = performance.now();
    runtime = await start(sandbox);
    const startMs = performance.now() - launched;
    const events = Array.from({ length: hires }, (_, i) => ({
      id: `bench-${i}`,
      type: 'hire',
      occurredAt: '2026-11-29T09:00:00Z',
      employee: { id: `B${i}`, email: `bench${i}@example.com`, name: `Bench ${i}` },
      roles: [i % 2 === 0 ? 'tenant-member' : 'tenant-admin'],
    }));
    const started = performance.now();
    const startedAt = Date.now();
    const cpuBefore = cpuTimes();
    for (let i = 0; i < events.length; i += 500) {
      const answer = await api(runtime, 'POST', '/events', { events: events.slice(i, i + 500) });
      if (answer.status !== 202)
        throw new Error(`ingest answered ${answer.status}: ${JSON.stringify(answer.json)}`);
    }
    const ingestMs = performance.now() - started;
    let succeeded = 0;
    const pollAnswers: Record<string, number> = {};
    while (succeeded < hires && performance.now() - started < settings.deadlineMs) {
      const { status, json } = await api(runtime, 'GET', '/events?status=succeeded&limit=500');
      pollAnswers[status] = (pollAnswers[status] ?? 0) + 1;
      if (status === 200) succeeded = (json.events as unknown[]).length;
      if (succeeded < hires) await new Promise((resolve) => setTimeout(resolve, settings.pollMs));
    }
    const drainMs = performance.now() - started;
    const cpuAfter = cpuTimes();

    const calls = sandbox.calls();
    const lastCallAt = Math.max(startedAt, ...calls.map((c) => Date.parse(c.at)));
    const notConverged = events.filter(
      (e) =>
        sandbox
          .users()
          .find((u) => u.email === e.employee.email)
          ?.roles?.join() !== e.roles.join(),
    ).length;
    return {
      hires,
      succeeded,
      completed: succeeded >= hires,
      ingestMs,
      drainMs,
      // `at` is when the call arrived; it then took the sandbox's latency.
      lastCallMs: lastCallAt - startedAt + latencyMs,
      startMs,
      boundMs: ((hires * MINIMAL_CALLS_PER_HIRE) / rate) * 1000,
      calls: calls.length,
      throttled: calls.filter((c) => c.status === 429).length,
      notConverged,
      pollAnswers,
      cpuBusy: (cpuAfter.busy - cpuBefore.busy) / Math.max(1, cpuAfter.total - cpuBefore.total),
      cores: cpus().length,
    };
  } finally {
    if (runtime) {
      await runtime.stop();
      removeDataDir(runtime.dataDir);
    }
    await sandbox.close();
  }
}
