/**
 * One drain for the bench: N new hires with explicit roles, posted to a runtime's HTTP API in one request,
 * timed until `GET /events?status=succeeded` lists them all, against a fresh TrueFoundry sandbox limited to
 * RATE calls/s with LATENCY_MS of latency. The runtime is a child process: `npm start` or `npm run emulate`.
 *
 * The bound is the calls the sandbox answered (not 429) ÷ the rate: the calls the drain needed, counted rather
 * than assumed, since how many reads a hire costs is the runtime's business (a pre-register and a roles
 * update, plus a read of the account, or a share of a directory page read for many hires at once).
 */
import { cpus } from 'node:os';
import { type CallRecord, type Sandbox, startSandbox } from '../sandbox';
import { api, type RuntimeProcess, removeDataDir } from '../test/support/runtime-process';
import { isAnswered, isThrottled } from './call-log';
import { machineCpuMs } from './cpu-usage';

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
  /** Answered calls ÷ the rate. */
  boundMs: number;
  calls: number;
  /** Answered by the API (not 429): what the bound counts. */
  answered: number;
  throttled: number;
  notConverged: number;
  pollAnswers: Record<string, number>;
  /** The share of the machine's CPU time that was busy from the first POST to the end of the drain. */
  cpuBusy: number;
  cores: number;
  /** Epoch ms of the first POST, and the sandbox's log: for calls per second over time. */
  startedAt: number;
  callLog: CallRecord[];
};

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
    const cpuBefore = machineCpuMs();
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
    const cpuAfter = machineCpuMs();

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
      boundMs: (calls.filter(isAnswered).length / rate) * 1000,
      calls: calls.length,
      answered: calls.filter(isAnswered).length,
      throttled: calls.filter(isThrottled).length,
      notConverged,
      pollAnswers,
      cpuBusy: (cpuAfter.busy - cpuBefore.busy) / Math.max(1, cpuAfter.total - cpuBefore.total),
      cores: cpus().length,
      startedAt,
      callLog: calls,
    };
  } finally {
    if (runtime) {
      await runtime.stop();
      removeDataDir(runtime.dataDir);
    }
    await sandbox.close();
  }
}
