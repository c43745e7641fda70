import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox';
import {
  api,
  type RuntimeProcess,
  removeDataDir,
  startEmulatorProcess,
  waitFor,
} from '../support/runtime-process';
import { hire, hrProvisioning, settled } from './emulate-harness';

/*
 * The emulated stack against a sandbox the test steers: a permanent failure goes to the SQS dead-letter
 * queue (the worker moves it there itself, with its reason), the operator CLI lists and redrives it through
 * the emulated SQS endpoint, and a transient failure comes back after the delay the worker asked for.
 */

let sandbox: Sandbox;
let emulator: RuntimeProcess;

beforeAll(async () => {
  sandbox = await startSandbox();
  emulator = await startEmulatorProcess({ TFY_BASE_URL: sandbox.url, TFY_API_KEY: sandbox.apiKey });
}, 200_000);

afterAll(async () => {
  if (emulator) {
    await emulator.stop();
    removeDataDir(emulator.dataDir);
  }
  await sandbox?.close();
});

const userOf = (email: string) => sandbox.users().find((u) => u.email === email);

describe('npm run emulate: dead letters and retries', () => {
  it('dead-letters a permanent failure with its reason; the CLI lists it and redrives it once fixed', async () => {
    const email = 'emu.dead@example.com';
    sandbox.seedUser({ email });
    // TrueFoundry refuses the roles (422): permanent, so the worker sends it to the DLQ at once.
    sandbox.setFaults({ scripted: [{ method: 'PATCH', path: '/api/svc/v1/users/roles', status: 422 }] });
    const event = { ...hire('emu-dlq-1', 'E-EMU-DLQ', email), type: 'role_change', roles: ['tenant-admin'] };
    expect((await api(emulator, 'POST', '/events', event)).status).toBe(202);
    expect(await settled(emulator, 'emu-dlq-1')).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: expect.stringContaining('422'),
    });

    const listed = await waitFor('the dead letter to show', async () => {
      const run = await hrProvisioning(emulator, ['dlq', 'list', '--json']);
      expect(run.code, run.stderr).toBe(0);
      const letters = (JSON.parse(run.stdout) as { deadLetters: { eventId: string; reason: string }[] })
        .deadLetters;
      return letters.length > 0 ? letters : undefined;
    });
    expect(listed).toEqual([
      expect.objectContaining({
        eventId: 'emu-dlq-1',
        employeeKey: 'id:E-EMU-DLQ',
        reason: expect.stringContaining('422'),
      }),
    ]);

    // The fault was one-off: the cause is gone. Redrive through SQS, as on AWS.
    const redrive = await hrProvisioning(emulator, ['dlq', 'redrive', '--id', 'emu-dlq-1']);
    expect(redrive.code, redrive.stderr).toBe(0);
    expect(redrive.stdout).toContain('redriven 1');
    const again = await waitFor('emu-dlq-1 to succeed after the redrive', async () => {
      const { json } = await api(emulator, 'GET', '/events/emu-dlq-1');
      return json.status === 'succeeded' ? json : undefined;
    });
    expect(again.attempts).toBe(2);
    expect(userOf(email)?.roles).toEqual(['tenant-admin']);
    const after = await hrProvisioning(emulator, ['dlq', 'list']);
    expect(after.stdout).toContain('the dead-letter queue is empty');
  });

  // The worker hands a record back with ChangeMessageVisibility on the queue URL the stack gives it
  // (QUEUE_URL): one rebuilt from the record's ARN names the public endpoint, which the emulator is not, and
  // the record would wait out the queue's whole visibility timeout (6 × the worker timeout) instead.
  it('brings a transiently failed event back after the delay the worker asked for', async () => {
    const email = 'emu.transient@example.com';
    // Every attempt of the first delivery's read fails (the client tries four times): a transient failure.
    sandbox.setFaults({
      scripted: [{ method: 'GET', path: '/api/svc/v1/users', status: 503, times: 4 }],
    });
    expect((await api(emulator, 'POST', '/events', hire('emu-retry-1', 'E-EMU-RETRY', email))).status).toBe(
      202,
    );
    const view = await settled(emulator, 'emu-retry-1', 20_000);
    expect(view).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(userOf(email)).toBeDefined();
    // Its batch of one needed a retry: reported as a batch item failure, not a Lambda error (which the
    // WorkerErrors alarm counts); the emulator prints every failed invocation with its error type.
    expect(emulator.output()).not.toContain('FullBatchFailureError');
    expect(emulator.output()).not.toContain('the function failed');
  }, 30_000);
});
