import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox';
import {
  api,
  type RuntimeProcess,
  removeDataDir,
  startRuntimeProcess,
  waitFor,
} from '../support/runtime-process';

let sandbox: Sandbox;
let runtime: RuntimeProcess;

beforeAll(async () => {
  sandbox = await startSandbox();
  runtime = await startRuntimeProcess({
    TFY_BASE_URL: sandbox.url,
    TFY_API_KEY: sandbox.apiKey,
    TFY_RATE_LIMIT_RPS: '200',
    MAX_RECEIVE_COUNT: '3',
  });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  removeDataDir(runtime.dataDir);
  await sandbox?.close();
});

type EventInput = { id: string; type: string; at: string; email: string; roles?: string[] };

const canonical = (e: EventInput) => ({
  id: e.id,
  type: e.type,
  occurredAt: e.at,
  employee: { id: `E-${e.email}`, email: e.email },
  ...(e.roles ? { roles: e.roles } : {}),
});

async function send(...events: EventInput[]) {
  const answer = await api(runtime, 'POST', '/events', { events: events.map(canonical) });
  expect(answer.status).toBe(202);
  return answer.json.events as { id: string; status: string; duplicate?: boolean }[];
}

const terminal = new Set(['succeeded', 'superseded', 'failed']);

async function settled(id: string): Promise<Record<string, unknown>> {
  return waitFor(`${id} to end`, async () => {
    const { json } = await api(runtime, 'GET', `/events/${id}`);
    return terminal.has(json.status as string) ? json : undefined;
  });
}

const userOf = (email: string) => sandbox.users().find((u) => u.email === email);

describe('the local runtime as a child process, against the sandbox', () => {
  it('runs a whole lifecycle: hire, role change, offboard, rehire', async () => {
    const email = 'lifecycle@example.com';
    await send({ id: 'life-1', type: 'hire', at: '2026-11-01T09:00:00Z', email, roles: ['tenant-member'] });
    expect(await settled('life-1')).toMatchObject({ status: 'succeeded' });
    expect(userOf(email)).toMatchObject({ active: true, roles: ['tenant-member'] });

    await send({
      id: 'life-2',
      type: 'role_change',
      at: '2026-11-05T09:00:00Z',
      email,
      roles: ['tenant-admin'],
    });
    expect(await settled('life-2')).toMatchObject({ status: 'succeeded' });
    expect(userOf(email)?.roles).toEqual(['tenant-admin']);

    await send({ id: 'life-3', type: 'offboard', at: '2026-11-10T09:00:00Z', email });
    expect(await settled('life-3')).toMatchObject({ status: 'succeeded' });
    expect(userOf(email)?.active).toBe(false);

    await send({ id: 'life-4', type: 'hire', at: '2026-11-20T09:00:00Z', email, roles: ['tenant-viewer'] });
    const rehire = await settled('life-4');
    expect(rehire).toMatchObject({ status: 'succeeded' });
    expect((rehire.steps as { action: string }[]).map((s) => s.action)).toEqual(['activate', 'set-roles']);
    expect(userOf(email)).toMatchObject({ active: true, roles: ['tenant-viewer'] });
    expect(
      sandbox.calls().filter((c) => c.effect === 'created' && JSON.stringify(c.body).includes(email)),
    ).toHaveLength(1);
  });

  it('answers a duplicate with the existing status and does nothing twice', async () => {
    const email = 'duplicate@example.com';
    const hire = { id: 'dup-1', type: 'hire', at: '2026-11-01T09:00:00Z', email, roles: ['tenant-member'] };
    await send(hire);
    await settled('dup-1');
    const before = sandbox.calls().length;
    const [answer] = await send(hire);
    expect(answer).toEqual({ id: 'dup-1', status: 'succeeded', duplicate: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sandbox.calls().length).toBe(before);
  });

  it('records a stale event as superseded without a call: a late hire does not undo an offboard', async () => {
    const email = 'stale@example.com';
    await send({ id: 'stale-1', type: 'hire', at: '2026-11-01T09:00:00Z', email, roles: ['tenant-member'] });
    await send({ id: 'stale-2', type: 'offboard', at: '2026-11-20T09:00:00Z', email });
    await settled('stale-2');
    await send({ id: 'stale-3', type: 'hire', at: '2026-11-10T09:00:00Z', email, roles: ['tenant-admin'] });
    expect(await settled('stale-3')).toMatchObject({ status: 'superseded', steps: [] });
    expect(userOf(email)?.active).toBe(false);
  });

  it('sends a permanent failure to the dead-letter store with its reason, and redrives it once fixed', async () => {
    const email = 'deadletter@example.com';
    sandbox.seedUser({ email });
    // TrueFoundry refuses the roles (422): permanent, so no retries are burnt on it.
    sandbox.setFaults({ scripted: [{ method: 'PATCH', path: '/api/svc/v1/users/roles', status: 422 }] });
    await send({
      id: 'dlq-1',
      type: 'role_change',
      at: '2026-11-01T09:00:00Z',
      email,
      roles: ['tenant-admin'],
    });
    const failed = await settled('dlq-1');
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, error: expect.stringContaining('422') });
    const { json } = await api(runtime, 'GET', '/dlq');
    const letter = (json.deadLetters as { eventId: string; reason: string }[]).find(
      (l) => l.eventId === 'dlq-1',
    );
    expect(letter?.reason).toContain('422');

    // The cause is gone (the fault was one-off); redrive.
    const redrive = await api(runtime, 'POST', '/dlq/redrive', { ids: ['dlq-1'] });
    expect(redrive).toMatchObject({ status: 202, json: { redriven: ['dlq-1'] } });
    const again = await waitFor('dlq-1 to succeed', async () => {
      const { json: view } = await api(runtime, 'GET', '/events/dlq-1');
      return view.status === 'succeeded' ? view : undefined;
    });
    expect(again.attempts).toBe(2);
    expect(userOf(email)?.roles).toEqual(['tenant-admin']);
    const after = await api(runtime, 'GET', '/dlq');
    expect((after.json.deadLetters as { eventId: string }[]).map((l) => l.eventId)).not.toContain('dlq-1');
  });

  it('refuses bad input with a clear answer and queues nothing', async () => {
    const bad = await api(runtime, 'POST', '/events', {
      id: 'bad-1',
      type: 'promotion',
      occurredAt: 'x',
      employee: {},
    });
    expect(bad.status).toBe(400);
    expect(bad.json.allowed).toEqual(['hire', 'role_change', 'offboard']);
    expect((await api(runtime, 'GET', '/events/bad-1')).status).toBe(404);
  });
});
