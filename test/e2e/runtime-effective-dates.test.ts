import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox';
import { runCapturing } from '../cli/support/cli-harness';
import {
  api,
  type RuntimeProcess,
  removeDataDir,
  startRuntimeProcess,
  waitFor,
} from '../support/runtime-process';

/**
 * Effective dates through `npm start` (issue 13, part 3): an event effective in 5 s is accepted as
 * `scheduled` with its time, makes no call before that time and runs after it; a cancelled one never runs;
 * an event that ran cannot be cancelled (409 with its status); a scheduled event survives a restart, and one
 * that fell due while the runtime was down runs when it is back. How late after its time an event ran is
 * printed, not asserted (a loaded machine would break a bound); the scheduler's tick is tested on its own.
 */
let sandbox: Sandbox;
let runtime: RuntimeProcess;
let env: Record<string, string>;

beforeAll(async () => {
  sandbox = await startSandbox();
  env = { TFY_BASE_URL: sandbox.url, TFY_API_KEY: sandbox.apiKey, TFY_RATE_LIMIT_RPS: '200' };
  runtime = await startRuntimeProcess(env);
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  removeDataDir(runtime.dataDir);
  await sandbox?.close();
});

const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();
const hire = (id: string, n: string, effectiveAt?: string) => ({
  id,
  type: 'hire',
  occurredAt: new Date().toISOString(),
  ...(effectiveAt ? { effectiveAt } : {}),
  employee: { id: `ED-${n}`, email: `${n}@example.com` },
  roles: ['tenant-member'],
});
/** TrueFoundry calls that name this email (a read by email, or a write for it). */
const callsFor = (email: string) =>
  sandbox.calls().filter((c) => c.query.email === email || JSON.stringify(c.body ?? '').includes(email));
const cli = (...argv: string[]) =>
  runCapturing([...argv, '--url', runtime.url, '--token', runtime.token], { env: {}, cwd: runtime.dataDir });

async function statusOf(id: string, wanted: string[], timeoutMs = 30_000) {
  return waitFor(
    `${id} to be ${wanted.join(' or ')}`,
    async () => {
      const { json } = await api(runtime, 'GET', `/events/${id}`);
      return wanted.includes(String(json.status)) ? json : undefined;
    },
    timeoutMs,
  );
}

describe('effective dates end to end (npm start)', () => {
  it('schedules an event effective in 5 s, makes no call before then, and runs it after', async () => {
    const due = inSeconds(5);
    const accepted = await api(runtime, 'POST', '/events', hire('eff-5s', 'five', due));
    expect(accepted.status).toBe(202);
    expect(accepted.json.events).toEqual([{ id: 'eff-5s', status: 'scheduled', dueAt: due }]);
    const shown = await api(runtime, 'GET', '/events/eff-5s');
    expect(shown.json).toMatchObject({ status: 'scheduled', dueAt: due, effectiveAt: due });
    expect((await api(runtime, 'GET', '/events?status=scheduled')).json.events).toEqual([
      expect.objectContaining({ id: 'eff-5s' }),
    ]);
    const status = await cli('status', 'eff-5s');
    expect(status.stdout).toContain(`runs at    ${due}`);

    await statusOf('eff-5s', ['succeeded']);
    const calls = callsFor('five@example.com');
    expect(calls.length).toBeGreaterThan(0);
    const first = calls.map((c) => c.at).sort()[0] ?? '';
    expect(first >= due).toBe(true);
    expect(sandbox.users().find((u) => u.email === 'five@example.com')?.active).toBe(true);
    console.log(
      `effective-dates: first call ${Date.parse(first) - Date.parse(due)} ms after the effective time`,
    );
  }, 60_000);

  it('never runs a cancelled event; refuses to cancel one that ran, with its status', async () => {
    const due = inSeconds(3);
    const events = [hire('eff-cancel', 'cancelled', due), hire('eff-sentinel', 'sentinel', due)];
    expect((await api(runtime, 'POST', '/events', { events })).status).toBe(202);
    const cancelled = await cli('cancel', 'eff-cancel');
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain('eff-cancel: cancelled');

    // The sentinel, due at the same instant, ran: the sweep has passed that time.
    await statusOf('eff-sentinel', ['succeeded']);
    const record = await api(runtime, 'GET', '/events/eff-cancel');
    expect(record.json).toMatchObject({ status: 'cancelled', attempts: 0, steps: [] });
    expect(String(record.json.note)).toMatch(/^cancelled by an operator/);
    expect(callsFor('cancelled@example.com')).toEqual([]);

    // Again: 200, still cancelled (a retry is safe).
    expect((await api(runtime, 'DELETE', '/events/eff-cancel')).json).toMatchObject({ status: 'cancelled' });
    // One that ran: 409 with its status, and nothing changes.
    const ran = await api(runtime, 'DELETE', '/events/eff-sentinel');
    expect(ran.status).toBe(409);
    expect(ran.json).toMatchObject({ error: 'not_cancellable', status: 'succeeded' });
    const refused = await cli('cancel', 'eff-sentinel');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is succeeded and cannot be cancelled');
    expect((await api(runtime, 'DELETE', '/events/eff-nothing')).status).toBe(404);
  }, 60_000);

  it('applies a person’s events in effective order: an offboard effective now runs before a hire dated later', async () => {
    // A contractor who never started: hire scheduled for later, offboard effective now (accepted after it).
    const person = { id: 'ED-contractor', email: 'contractor@example.com' };
    sandbox.seedUser({ email: person.email, roles: ['tenant-member'] });
    const hireLater = { ...hire('eff-order-hire', 'contractor', inSeconds(4)), employee: person };
    const offboardNow = {
      id: 'eff-order-offboard',
      type: 'offboard',
      occurredAt: new Date().toISOString(),
      employee: person,
    };
    expect((await api(runtime, 'POST', '/events', { events: [hireLater, offboardNow] })).status).toBe(202);
    await statusOf('eff-order-offboard', ['succeeded']);
    expect(sandbox.users().find((u) => u.email === person.email)?.active).toBe(false);
    expect((await api(runtime, 'GET', '/events/eff-order-hire')).json.status).toBe('scheduled');
    // On its date the hire still runs (it was not cancelled), after the offboard in the person's order.
    await statusOf('eff-order-hire', ['succeeded']);
    expect(sandbox.users().find((u) => u.email === person.email)?.active).toBe(true);
  }, 60_000);

  it('keeps a scheduled event across a restart, and runs one that fell due while stopped', async () => {
    const dueWhileDown = inSeconds(2);
    const dueAfter = inSeconds(6);
    const events = [hire('eff-down', 'down', dueWhileDown), hire('eff-after', 'after', dueAfter)];
    expect((await api(runtime, 'POST', '/events', { events })).status).toBe(202);
    await runtime.kill9();
    await waitFor('the first event to fall due while the runtime is down', async () =>
      Date.now() > Date.parse(dueWhileDown) ? true : undefined,
    );
    runtime = await startRuntimeProcess(env, runtime.dataDir);

    await statusOf('eff-down', ['succeeded']);
    await statusOf('eff-after', ['succeeded']);
    const first = callsFor('after@example.com')
      .map((c) => c.at)
      .sort()[0];
    expect(first !== undefined && first >= dueAfter).toBe(true);
  }, 90_000);

  it('refuses an effectiveAt without a zone, or more than 400 days ahead, naming the field; nothing recorded', async () => {
    const noZone = await api(runtime, 'POST', '/events', {
      ...hire('eff-bad-1', 'bad'),
      effectiveAt: '2026-12-24T09:00:00',
    });
    expect(noZone.status).toBe(400);
    expect(JSON.stringify(noZone.json)).toContain('effectiveAt');
    expect(JSON.stringify(noZone.json)).toContain('with a zone');
    const far = await api(runtime, 'POST', '/events', {
      ...hire('eff-bad-2', 'bad'),
      effectiveAt: inSeconds(401 * 86_400),
    });
    expect(far.status).toBe(400);
    expect(JSON.stringify(far.json)).toContain('more than 400 days ahead');
    expect((await api(runtime, 'GET', '/events/eff-bad-1')).status).toBe(404);
    expect((await api(runtime, 'GET', '/events/eff-bad-2')).status).toBe(404);
  });
});
