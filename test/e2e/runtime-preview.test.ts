import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox';
import {
  api,
  type RuntimeProcess,
  removeDataDir,
  startRuntimeProcess,
  waitFor,
} from '../support/runtime-process';

/*
 * The preview end to end: `npm start` in a child process against a sandbox tenant over HTTP. A dry run plans
 * with the worker's planner on the tenant's current state and leaves no trace: no TrueFoundry write, no
 * record, nothing queued; the same file uploaded for real then does what the preview said.
 */

let sandbox: Sandbox;
let runtime: RuntimeProcess;

beforeAll(async () => {
  sandbox = await startSandbox();
  runtime = await startRuntimeProcess({
    TFY_BASE_URL: sandbox.url,
    TFY_API_KEY: sandbox.apiKey,
    TFY_RATE_LIMIT_RPS: '200',
  });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  removeDataDir(runtime.dataDir);
  await sandbox?.close();
});

beforeEach(() => {
  sandbox.reset();
  sandbox.seedUser({ email: 'grace.pv@example.com', roles: ['tenant-member'] });
  sandbox.seedUser({ email: 'linus.pv@example.com', roles: ['tenant-member'] });
  sandbox.seedUser({ email: 'ken.pv@example.com', roles: ['tenant-member'] });
});

// New hires, a role change, an offboard, a no-op and a bad row.
const CSV = [
  'id,type,employee_id,email,roles',
  'pv-1,hire,E-pv-1,ada.pv@example.com,tenant-member',
  'pv-2,hire,E-pv-2,alan.pv@example.com,tenant-admin',
  'pv-3,role_change,E-pv-3,grace.pv@example.com,tenant-admin',
  'pv-4,offboard,E-pv-4,linus.pv@example.com,',
  'pv-5,hire,E-pv-5,ken.pv@example.com,tenant-member',
  'pv-6,hire,E-pv-6,not-an-email,tenant-member',
].join('\n');

const EXPECTED_PLANS = [
  { line: 2, id: 'pv-1', email: 'ada.pv@example.com', actions: ['register', 'set-roles:tenant'] },
  { line: 3, id: 'pv-2', email: 'alan.pv@example.com', actions: ['register', 'set-roles:tenant'] },
  { line: 4, id: 'pv-3', email: 'grace.pv@example.com', actions: ['set-roles:tenant'] },
  { line: 5, id: 'pv-4', email: 'linus.pv@example.com', actions: ['deactivate'] },
  { line: 6, id: 'pv-5', email: 'ken.pv@example.com', actions: [], note: 'already in the wanted state' },
];

async function expectNoTrace(): Promise<void> {
  expect(sandbox.calls().map((c) => c.method)).toEqual(expect.arrayContaining(['GET']));
  expect(sandbox.calls().filter((c) => c.method !== 'GET')).toEqual([]);
  for (const id of ['pv-1', 'pv-2', 'pv-3', 'pv-4', 'pv-5']) {
    expect((await api(runtime, 'GET', `/events/${id}`)).status).toBe(404);
  }
  expect((await api(runtime, 'GET', '/events')).json.events).toEqual([]);
  expect((await api(runtime, 'GET', '/healthz')).json.queue).toEqual({
    queued: 0,
    inFlight: 0,
    deadLetters: 0,
  });
}

describe('POST /batch?dryRun=true through npm start', () => {
  it('answers the exact plans, rejected rows and summary, with zero TrueFoundry writes and no record', async () => {
    const answer = await api(runtime, 'POST', '/batch?dryRun=true', CSV, 'text/csv');
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({
      dryRun: true,
      plans: EXPECTED_PLANS,
      rejected: [{ line: 7, error: expect.stringContaining('email') }],
      summary: { create: 2, activate: 0, 'set-roles': 3, deactivate: 1, delete: 0, 'no-op': 1 },
    });
    // One exact-email read per planned row, as the worker reads.
    expect(sandbox.calls()).toHaveLength(5);
    await expectNoTrace();
  });

  it('answers 400 naming dryRun for another value, recording nothing', async () => {
    const answer = await api(runtime, 'POST', '/batch?dryRun=maybe', CSV, 'text/csv');
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ error: 'invalid_query', message: 'dryRun must be true or false' });
    expect(sandbox.calls()).toEqual([]);
    expect((await api(runtime, 'GET', '/events')).json.events).toEqual([]);
  });

  it('previews POST /events too, and the real upload afterwards does what the preview said', async () => {
    const event = {
      id: 'pv-e1',
      type: 'role_change',
      occurredAt: '2026-11-01T09:00:00Z',
      employee: { id: 'E-pv-3', email: 'grace.pv@example.com' },
      roles: ['tenant-admin'],
    };
    const preview = await api(runtime, 'POST', '/events?dryRun=true', event);
    expect(preview.json).toEqual({
      dryRun: true,
      plans: [{ id: 'pv-e1', email: 'grace.pv@example.com', actions: ['set-roles:tenant'] }],
      rejected: [],
      summary: { create: 0, activate: 0, 'set-roles': 1, deactivate: 0, delete: 0, 'no-op': 0 },
    });
    expect((await api(runtime, 'GET', '/events/pv-e1')).status).toBe(404);
    expect(sandbox.calls().filter((c) => c.method !== 'GET')).toEqual([]);

    expect((await api(runtime, 'POST', '/events', event)).status).toBe(202);
    const done = await waitFor('pv-e1 to end', async () => {
      const { json } = await api(runtime, 'GET', '/events/pv-e1');
      return ['succeeded', 'failed'].includes(json.status as string) ? json : undefined;
    });
    expect(done).toMatchObject({ status: 'succeeded' });
    expect((done.steps as { action: string }[]).map((s) => s.action)).toEqual(['set-roles']);
    expect(sandbox.users().find((u) => u.email === 'grace.pv@example.com')?.roles).toEqual(['tenant-admin']);
  });
});
