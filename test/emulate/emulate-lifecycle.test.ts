import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox';
import { api, type RuntimeProcess, removeDataDir, startEmulatorProcess } from '../support/runtime-process';
import { hire, settled } from './emulate-harness';

/*
 * The end-to-end scenarios of test/e2e/runtime-lifecycle.test.ts (run there against `npm start`), here
 * against the deployed bundles on the emulated stack: a whole lifecycle, duplicates, a stale event, and
 * TrueFoundry answering 429 with Retry-After and 5xx.
 */

let sandbox: Sandbox;
let emulator: RuntimeProcess;

beforeAll(async () => {
  sandbox = await startSandbox();
  emulator = await startEmulatorProcess({ TFY_BASE_URL: sandbox.url, TFY_API_KEY: sandbox.apiKey });
}, 200_000);

afterEach(() => {
  sandbox?.setFaults({});
});

afterAll(async () => {
  if (emulator) {
    await emulator.stop();
    removeDataDir(emulator.dataDir);
  }
  await sandbox?.close();
});

type Event = ReturnType<typeof hire> & { type: string; roles?: string[] };

const eventOf = (
  id: string,
  type: 'hire' | 'role_change' | 'offboard',
  employeeId: string,
  email: string,
  occurredAt: string,
  roles?: string[],
): Event => {
  const { roles: _roles, ...base } = hire(id, employeeId, email);
  return { ...base, type, occurredAt, ...(roles ? { roles } : {}) } as Event;
};

/** POST /events with one event or several; answers the per-event acknowledgements. */
async function send(body: Event | Event[]) {
  const answer = await api(emulator, 'POST', '/events', body);
  expect(answer.status, JSON.stringify(answer.json)).toBe(202);
  return answer.json.events as { id: string; status: string; duplicate?: boolean }[];
}

/** Waits for the event to end, with the emulator's output in the error when it does not. */
const end = (id: string, timeoutMs?: number) =>
  settled(emulator, id, timeoutMs).catch((error: Error) => {
    throw new Error(`${error.message}\n${emulator.output().slice(-6000)}`);
  });

const userOf = (email: string) => sandbox.users().find((u) => u.email === email);
const createsOf = (email: string) =>
  sandbox.calls().filter((c) => c.effect === 'created' && JSON.stringify(c.body).includes(email));

describe('npm run emulate: the lifecycle scenarios of npm start', () => {
  it('runs a whole lifecycle for one employee: hire, role change, offboard, rehire', async () => {
    const email = 'emu.life@example.com';
    const person = 'E-EMU-LIFE';
    await send(eventOf('emu-life-1', 'hire', person, email, '2026-11-01T09:00:00Z', ['tenant-member']));
    expect(await end('emu-life-1')).toMatchObject({ status: 'succeeded', person: `id:${person}` });
    expect(userOf(email)).toMatchObject({ active: true, roles: ['tenant-member'] });

    await send(eventOf('emu-life-2', 'role_change', person, email, '2026-11-05T09:00:00Z', ['tenant-admin']));
    expect(await end('emu-life-2')).toMatchObject({ status: 'succeeded' });
    expect(userOf(email)).toMatchObject({ active: true, roles: ['tenant-admin'] });

    await send(eventOf('emu-life-3', 'offboard', person, email, '2026-11-10T09:00:00Z'));
    expect(await end('emu-life-3')).toMatchObject({ status: 'succeeded' });
    expect(userOf(email)?.active).toBe(false);

    await send(eventOf('emu-life-4', 'hire', person, email, '2026-11-20T09:00:00Z', ['tenant-viewer']));
    const rehire = await end('emu-life-4');
    expect(rehire).toMatchObject({ status: 'succeeded' });
    expect((rehire.steps as { action: string }[]).map((s) => s.action)).toEqual(['activate', 'set-roles']);
    expect(userOf(email)).toMatchObject({ active: true, roles: ['tenant-viewer'] });
    // The rehire reactivated the user it had: one user, created once.
    expect(sandbox.users().filter((u) => u.email === email)).toHaveLength(1);
    expect(createsOf(email)).toHaveLength(1);
  });

  it('answers a duplicate with the existing status and makes one set of TrueFoundry calls', async () => {
    const email = 'emu.dup@example.com';
    const first = eventOf('emu-dup-1', 'hire', 'E-EMU-DUP', email, '2026-11-01T09:00:00Z', ['tenant-member']);
    expect(await send(first)).toEqual([{ id: 'emu-dup-1', status: 'queued' }]);
    expect(await end('emu-dup-1')).toMatchObject({ status: 'succeeded', attempts: 1 });
    const callsAfterFirst = sandbox.calls().length;

    // The same event id again, later: answered with its status, queued for nothing.
    expect(await send(first)).toEqual([{ id: 'emu-dup-1', status: 'succeeded', duplicate: true }]);

    // The same event id twice in one request: the repeat is a duplicate of the first.
    const twice = eventOf('emu-dup-2', 'role_change', 'E-EMU-DUP', email, '2026-11-02T09:00:00Z', [
      'tenant-admin',
    ]);
    expect(await send([twice, twice])).toEqual([
      { id: 'emu-dup-2', status: 'queued' },
      { id: 'emu-dup-2', status: 'queued', duplicate: true },
    ]);
    expect(await end('emu-dup-2')).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(userOf(email)).toMatchObject({ active: true, roles: ['tenant-admin'] });

    // One role change's calls, and nothing for either repeat: one set-roles, still one user created.
    const after = sandbox.calls().slice(callsAfterFirst);
    expect(after.filter((c) => c.method === 'PATCH' && c.path.endsWith('/users/roles'))).toHaveLength(1);
    expect(after.filter((c) => c.effect === 'created')).toHaveLength(0);
    expect(createsOf(email)).toHaveLength(1);
    expect((await api(emulator, 'GET', '/events/emu-dup-1')).json).toMatchObject({ attempts: 1 });
  });

  it('records a stale role change as superseded, naming the newer event, without a call', async () => {
    const email = 'emu.stale@example.com';
    const person = 'E-EMU-STALE';
    await send(eventOf('emu-stale-1', 'hire', person, email, '2026-11-01T09:00:00Z', ['tenant-member']));
    expect(await end('emu-stale-1')).toMatchObject({ status: 'succeeded' });
    await send(
      eventOf('emu-stale-3', 'role_change', person, email, '2026-11-20T09:00:00Z', ['tenant-admin']),
    );
    expect(await end('emu-stale-3')).toMatchObject({ status: 'succeeded' });
    const callsBefore = sandbox.calls().length;

    // An older role change arrives after the newer one was applied.
    await send(
      eventOf('emu-stale-2', 'role_change', person, email, '2026-11-10T09:00:00Z', ['tenant-viewer']),
    );
    const stale = await end('emu-stale-2');
    expect(stale).toMatchObject({ status: 'superseded', steps: [] });
    expect(String(stale.note)).toContain('emu-stale-3');
    expect(sandbox.calls()).toHaveLength(callsBefore);
    expect(userOf(email)).toMatchObject({ active: true, roles: ['tenant-admin'] });
  });

  it('rides out 429 with Retry-After and a 500 on the read: the event succeeds, the user is created once', async () => {
    const email = 'emu.throttled@example.com';
    const callsBefore = sandbox.calls().length;
    sandbox.setFaults({
      scripted: [
        { method: 'GET', path: '/api/svc/v1/users', status: 429, retryAfterSeconds: 1, times: 2 },
        { method: 'GET', path: '/api/svc/v1/users', status: 500 },
      ],
    });
    await send(eventOf('emu-429-1', 'hire', 'E-EMU-429', email, '2026-11-01T09:00:00Z', ['tenant-member']));
    expect(await end('emu-429-1')).toMatchObject({ status: 'succeeded' });
    const reads = sandbox
      .calls()
      .slice(callsBefore)
      .filter((c) => c.method === 'GET' && c.path === '/api/svc/v1/users');
    // Answered 429, 429 (each with Retry-After: 1), 500, then read through.
    expect(reads.map((c) => c.status).slice(0, 4)).toEqual([429, 429, 500, 200]);
    expect(userOf(email)).toMatchObject({ active: true, roles: ['tenant-member'] });
    expect(createsOf(email)).toHaveLength(1);
  }, 40_000);

  it('creates the user once when the create lands but its answer is a 503: the retry finds it', async () => {
    const email = 'emu.lost@example.com';
    sandbox.setFaults({
      scripted: [{ method: 'POST', path: '/api/svc/v1/users/register', status: 503, afterEffect: true }],
    });
    await send(eventOf('emu-5xx-1', 'hire', 'E-EMU-5XX', email, '2026-11-01T09:00:00Z', ['tenant-member']));
    const view = await end('emu-5xx-1', 30_000);
    expect(view).toMatchObject({ status: 'succeeded' });
    expect(view.attempts).toBeGreaterThanOrEqual(2);
    expect(sandbox.users().filter((u) => u.email === email)).toHaveLength(1);
    expect(userOf(email)).toMatchObject({ active: true, roles: ['tenant-member'] });
    expect(createsOf(email)).toHaveLength(1);
  }, 40_000);
});
