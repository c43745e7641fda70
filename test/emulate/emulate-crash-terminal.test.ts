import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox';
import {
  api,
  type RuntimeProcess,
  removeDataDir,
  startEmulatorProcess,
  waitFor,
} from '../support/runtime-process';
import { hire, hrProvisioning, secretsLatency, settled } from './emulate-harness';

/*
 * Every accepted event ends terminal on AWS too, even when the worker dies in every invocation: here a
 * Secrets Manager that never answers makes each invocation run out of time after it started the event. The
 * attempts are counted in DynamoDB, so the delivery after the budget fails the event and dead-letters it
 * with its reason, before SQS would move the message by itself and leave the record open. With a budget of
 * one attempt and the shortest worker timeout (10 s; the message comes back after 6 × 10 s), this file takes
 * about 80 s.
 */

let sandbox: Sandbox;
let emulator: RuntimeProcess;

beforeAll(async () => {
  sandbox = await startSandbox();
  emulator = await startEmulatorProcess({
    TFY_BASE_URL: sandbox.url,
    TFY_API_KEY: sandbox.apiKey,
    EMULATE_CONTEXT: JSON.stringify({ workerTimeoutSeconds: 10, maxAttempts: 1 }),
  });
}, 200_000);

afterAll(async () => {
  if (emulator) {
    await emulator.stop();
    removeDataDir(emulator.dataDir);
  }
  await sandbox?.close();
});

describe('npm run emulate: a worker that dies in every invocation', () => {
  it('ends the event failed, in the dead-letter queue with its reason, not open for good', async () => {
    // The ingest and operator functions read (and cache) their secret before the fault.
    expect((await api(emulator, 'POST', '/events', { id: 'warm-up' })).status).toBe(400);
    expect((await api(emulator, 'GET', '/events/warm-up')).status).toBe(404);
    await secretsLatency(emulator, 300_000);
    expect(
      (await api(emulator, 'POST', '/events', hire('crash-1', 'E-CRASH', 'crash@example.com'))).status,
    ).toBe(202);
    const failed = await settled(emulator, 'crash-1', 120_000);
    expect(failed).toMatchObject({ status: 'failed', error: expect.stringContaining('none finished') });
    expect(sandbox.calls()).toHaveLength(0);
    const letters = await waitFor('the dead letter', async () => {
      const run = await hrProvisioning(emulator, ['dlq', 'list', '--json']);
      const found = (JSON.parse(run.stdout) as { deadLetters: { eventId: string; reason: string }[] })
        .deadLetters;
      return found.length > 0 ? found : undefined;
    });
    expect(letters).toEqual([
      expect.objectContaining({ eventId: 'crash-1', reason: expect.stringContaining('none finished') }),
    ]);
  }, 200_000);
});
