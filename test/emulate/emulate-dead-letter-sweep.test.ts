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
 * A worker that dies before its handler runs, on every invocation (an init crash after a bad deploy): it
 * never records an attempt, so SQS moves the message to the dead-letter queue by itself after
 * maxReceiveCount receives, and the event would stay `queued` for good. The stack's schedule invokes the
 * worker's dead-letter sweep, which ends it `failed` and leaves the letter for a redrive. With the shortest
 * worker timeout (10 s, so the message comes back after 60 s) and maxReceiveCount 2, this takes about 2
 * minutes, most of it waiting for SQS.
 */

let sandbox: Sandbox;
let emulator: RuntimeProcess;

const control = () => {
  const url = /control\s+(http:\/\/\S+?):? /.exec(emulator.output())?.[1];
  if (!url) throw new Error('the emulator banner names no control endpoint');
  return url;
};

beforeAll(async () => {
  sandbox = await startSandbox();
  emulator = await startEmulatorProcess({
    TFY_BASE_URL: sandbox.url,
    TFY_API_KEY: sandbox.apiKey,
    EMULATE_CONTEXT: JSON.stringify({ workerTimeoutSeconds: 10, maxReceiveCount: 2 }),
  });
}, 200_000);

afterAll(async () => {
  if (emulator) {
    await emulator.stop();
    removeDataDir(emulator.dataDir);
  }
  await sandbox?.close();
});

describe('npm run emulate: the dead-letter sweep', () => {
  it('ends failed an event SQS dead-lettered by itself; once fixed, a redrive runs it', async () => {
    const crash = await fetch(`${control()}/__emulate/faults`, {
      method: 'PUT',
      body: JSON.stringify({ crash: ['Worker'] }),
    });
    expect(await crash.json()).toMatchObject({ crashing: [expect.stringContaining('Worker')] });
    expect(
      (await api(emulator, 'POST', '/events', hire('swept-1', 'E-SWEPT', 'swept@example.com'))).status,
    ).toBe(202);

    const letter = await waitFor(
      'SQS to move the message to the dead-letter queue',
      async () => {
        const run = await hrProvisioning(emulator, ['dlq', 'list', '--json']);
        const letters = (JSON.parse(run.stdout) as { deadLetters: { eventId: string; reason?: string }[] })
          .deadLetters;
        return letters.find((l) => l.eventId === 'swept-1');
      },
      180_000,
    );
    expect(letter).toBeDefined();
    // SQS moved it without a word: the record is still open, and no call reached TrueFoundry.
    expect((await api(emulator, 'GET', '/events/swept-1')).json).toMatchObject({ status: 'queued' });
    expect(sandbox.calls()).toEqual([]);

    // The worker is fixed; the schedule's sweep runs (now, rather than in up to 5 minutes).
    await fetch(`${control()}/__emulate/faults`, { method: 'PUT', body: JSON.stringify({ crash: [] }) });
    const runs = (await (await fetch(`${control()}/__emulate/schedules/run`, { method: 'POST' })).json()) as {
      rule: string;
      payload?: unknown;
    }[];
    expect(runs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          rule: expect.stringContaining('DeadLetterSweep'),
          payload: { seen: 1, reconciled: ['swept-1'] },
        }),
        // The other schedule: scheduled events due (none here).
        expect.objectContaining({
          rule: expect.stringContaining('ScheduledEventsRelease'),
          payload: { released: 0, failed: 0 },
        }),
      ]),
    );
    expect(runs).toHaveLength(2);
    expect(await settled(emulator, 'swept-1')).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('SQS moved it to the dead-letter queue'),
    });

    // The letter stayed; a redrive runs the event.
    const redrive = await hrProvisioning(emulator, ['dlq', 'redrive', '--id', 'swept-1']);
    expect(redrive.code, redrive.stderr).toBe(0);
    await waitFor('swept-1 to succeed after the redrive', async () => {
      const { json } = await api(emulator, 'GET', '/events/swept-1');
      return json.status === 'succeeded' ? json : undefined;
    });
    expect(sandbox.users().find((u) => u.email === 'swept@example.com')).toBeDefined();
  }, 240_000);
});
