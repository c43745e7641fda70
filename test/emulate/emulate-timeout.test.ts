import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox';
import {
  api,
  type RuntimeProcess,
  removeDataDir,
  startEmulatorProcess,
  waitFor,
} from '../support/runtime-process';
import { hire, secretsLatency, settled } from './emulate-harness';

/*
 * A worker invocation that runs out of time fails, and its message comes back when the queue's visibility
 * timeout (six times the worker's: 60 s here) runs out. The shortest worker timeout synth accepts is 10 s,
 * which makes this file take about 75 s.
 *
 * What makes it run out is a Secrets Manager that does not answer (the emulator's fault switch): the worker
 * bounds its TrueFoundry calls by its deadline, so a slow sandbox no longer would. Which failure it is depends
 * on a race Lambda has too: middy answers TimeoutError 5 ms before the deadline (from
 * Context.getRemainingTimeInMillis), unless the runtime kills the invocation first (`Task timed out`). The kill
 * itself is tested with a stand-in bundle in invoke.test.ts.
 */

const WORKER_TIMEOUT_SECONDS = 10;

let sandbox: Sandbox;
let emulator: RuntimeProcess;

beforeAll(async () => {
  sandbox = await startSandbox();
  emulator = await startEmulatorProcess({
    TFY_BASE_URL: sandbox.url,
    TFY_API_KEY: sandbox.apiKey,
    EMULATE_CONTEXT: JSON.stringify({ workerTimeoutSeconds: WORKER_TIMEOUT_SECONDS }),
  });
}, 200_000);

afterAll(async () => {
  if (emulator) {
    await emulator.stop();
    removeDataDir(emulator.dataDir);
  }
  await sandbox?.close();
});

describe('npm run emulate: the worker timeout', () => {
  it('fails an invocation that runs out of time; its message comes back after its visibility timeout', async () => {
    const email = 'emu.slow@example.com';
    // The ingest and operator functions read (and cache) their secret before the fault.
    expect((await api(emulator, 'POST', '/events', { id: 'warm-up' })).status).toBe(400);
    expect((await api(emulator, 'GET', '/events/warm-up')).status).toBe(404);
    // Longer than the test: the abandoned read never comes back to finish the first delivery's work.
    await secretsLatency(emulator, 300_000);
    const sent = Date.now();
    expect((await api(emulator, 'POST', '/events', hire('emu-slow-1', 'E-EMU-SLOW', email))).status).toBe(
      202,
    );

    // Generous: a loaded machine may take seconds to start the worker cold before its 10 s begin.
    const failure = await waitFor(
      'the invocation to fail',
      async () =>
        /"message":"the function failed: its batch comes back[^\n]*"errorType":"(Sandbox\.Timedout|TimeoutError)"/.exec(
          emulator.output(),
        )?.[1],
      45_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${emulator.output().slice(-4000)}`);
    });
    if (failure === 'Sandbox.Timedout')
      expect(emulator.output()).toContain('Task timed out after 10.00 seconds');
    expect(Date.now() - sent).toBeGreaterThanOrEqual(WORKER_TIMEOUT_SECONDS * 1000 - 1_000);
    // Out of time before it did anything: nothing finished the event, nothing deleted its message.
    expect((await api(emulator, 'GET', '/events/emu-slow-1')).json.status).toMatch(/^(queued|running)$/);
    expect(sandbox.calls()).toHaveLength(0);

    // Secrets Manager recovers; the message reappears 6 × 10 s after it was received, in a fresh (cold) worker.
    await secretsLatency(emulator, 0);
    const view = await settled(emulator, 'emu-slow-1', 80_000);
    expect(view).toMatchObject({ status: 'succeeded' });
    expect(Date.now() - sent).toBeGreaterThanOrEqual(6 * WORKER_TIMEOUT_SECONDS * 1000 - 1_000);
    expect(sandbox.users().filter((u) => u.email === email)).toHaveLength(1);
  }, 150_000);
});
