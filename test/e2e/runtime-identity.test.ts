import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVITE_PATH } from '../../functions/core/truefoundry/api-contract';
import { type Sandbox, startSandbox } from '../../sandbox';
import {
  api,
  type RuntimeProcess,
  removeDataDir,
  startRuntimeProcess,
  waitFor,
} from '../support/runtime-process';

/*
 * Offboarding that survives email changes, timestamp ties, redrives and lost answers, through `npm start`
 * as a child process against the sandbox: one test per case of issue 9 (case 5, the repeated CSV row, is
 * in runtime-reupload.test.ts).
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

type Input = { id: string; type: string; at: string; employee: string; email: string; roles?: string[] };

async function send(target: RuntimeProcess, input: Input) {
  const answer = await api(target, 'POST', '/events', {
    id: input.id,
    type: input.type,
    occurredAt: input.at,
    employee: { id: input.employee, email: input.email },
    ...(input.roles ? { roles: input.roles } : {}),
  });
  expect(answer.status, JSON.stringify(answer.json)).toBe(202);
}

async function settled(target: RuntimeProcess, id: string): Promise<Record<string, unknown>> {
  return waitFor(`${id} to end`, async () => {
    const { json } = await api(target, 'GET', `/events/${id}`);
    return ['succeeded', 'superseded', 'failed'].includes(json.status as string) ? json : undefined;
  });
}

const userOf = (email: string) => sandbox.users().find((u) => u.email === email);
const DAY1 = '2026-11-02T09:00:00Z';
const DAY2 = '2026-11-03T09:00:00Z';
const DAY3 = '2026-11-04T09:00:00Z';

describe('people, not addresses, through npm start', () => {
  it('1. an email change: the offboard deactivates the old address as well as the new', async () => {
    await send(runtime, {
      id: 'ec-1',
      type: 'hire',
      at: DAY1,
      employee: 'E-EC',
      email: 'ec.old@example.com',
      roles: ['tenant-member'],
    });
    expect(await settled(runtime, 'ec-1')).toMatchObject({ status: 'succeeded' });
    await send(runtime, {
      id: 'ec-2',
      type: 'role_change',
      at: DAY2,
      employee: 'E-EC',
      email: 'ec.new@example.com',
      roles: ['tenant-member'],
    });
    const change = await settled(runtime, 'ec-2');
    expect(change).toMatchObject({ status: 'succeeded' });
    // GET /events/{id} says what happened: the new account first, then the old one closed.
    expect(
      (change.steps as { action: string; email: string }[]).map((s) => `${s.action} ${s.email}`),
    ).toEqual([
      'register ec.new@example.com',
      'set-roles ec.new@example.com',
      'deactivate ec.old@example.com',
    ]);
    await send(runtime, {
      id: 'ec-3',
      type: 'offboard',
      at: DAY3,
      employee: 'E-EC',
      email: 'ec.new@example.com',
    });
    expect(await settled(runtime, 'ec-3')).toMatchObject({ status: 'succeeded' });
    expect(userOf('ec.old@example.com')?.active).toBe(false);
    expect(userOf('ec.new@example.com')?.active).toBe(false);
  });

  it('2. a tie: a failed hire redriven after an offboard with the same timestamp is superseded', async () => {
    await send(runtime, {
      id: 'tie-1',
      type: 'hire',
      at: DAY1,
      employee: 'E-TIE',
      email: 'tie@example.com',
      roles: ['tenant-member'],
    });
    expect(await settled(runtime, 'tie-1')).toMatchObject({ status: 'succeeded' });
    // A role TrueFoundry does not know: 422, failed for good, into the dead letters.
    await send(runtime, {
      id: 'tie-2',
      type: 'hire',
      at: DAY2,
      employee: 'E-TIE',
      email: 'tie@example.com',
      roles: ['no-such-role'],
    });
    expect(await settled(runtime, 'tie-2')).toMatchObject({ status: 'failed' });
    await send(runtime, {
      id: 'tie-3',
      type: 'offboard',
      at: DAY2,
      employee: 'E-TIE',
      email: 'tie@example.com',
    });
    expect(await settled(runtime, 'tie-3')).toMatchObject({ status: 'succeeded' });
    expect(userOf('tie@example.com')?.active).toBe(false);

    const calls = sandbox.calls().length;
    const redrive = await api(runtime, 'POST', '/dlq/redrive', { ids: ['tie-2'] });
    expect(redrive).toMatchObject({ status: 202, json: { redriven: ['tie-2'] } });
    const redriven = await waitFor('tie-2 to end again', async () => {
      const { json } = await api(runtime, 'GET', '/events/tie-2');
      return json.status === 'superseded' ? json : undefined;
    });
    expect(redriven.note).toContain('tie-3');
    expect(sandbox.calls().length).toBe(calls);
    expect(userOf('tie@example.com')?.active).toBe(false);
  });

  it('3. the mark moves with the outcome: an older event after a newer one failed is applied', async () => {
    await send(runtime, {
      id: 'mk-1',
      type: 'hire',
      at: DAY1,
      employee: 'E-MK',
      email: 'mark@example.com',
      roles: ['tenant-member'],
    });
    expect(await settled(runtime, 'mk-1')).toMatchObject({ status: 'succeeded' });
    await send(runtime, {
      id: 'mk-3',
      type: 'role_change',
      at: DAY3,
      employee: 'E-MK',
      email: 'mark@example.com',
      roles: ['bogus-role'],
    });
    expect(await settled(runtime, 'mk-3')).toMatchObject({ status: 'failed' });
    await send(runtime, {
      id: 'mk-2',
      type: 'role_change',
      at: DAY2,
      employee: 'E-MK',
      email: 'mark@example.com',
      roles: ['tenant-viewer'],
    });
    expect(await settled(runtime, 'mk-2')).toMatchObject({ status: 'succeeded' });
    expect(userOf('mark@example.com')?.roles).toEqual(['tenant-viewer']);
  });

  it('4. a far-future occurredAt is refused at ingest, and the offboard that follows deactivates', async () => {
    await send(runtime, {
      id: 'ff-1',
      type: 'hire',
      at: DAY1,
      employee: 'E-FF',
      email: 'future@example.com',
      roles: ['tenant-member'],
    });
    expect(await settled(runtime, 'ff-1')).toMatchObject({ status: 'succeeded' });
    const refused = await api(runtime, 'POST', '/events', {
      id: 'ff-2',
      type: 'hire',
      occurredAt: '9999-12-31T00:00:00Z',
      employee: { id: 'E-FF', email: 'future@example.com' },
      roles: ['tenant-admin'],
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.json)).toContain('occurredAt');
    expect((await api(runtime, 'GET', '/events/ff-2')).status).toBe(404);
    await send(runtime, {
      id: 'ff-3',
      type: 'offboard',
      at: DAY2,
      employee: 'E-FF',
      email: 'future@example.com',
    });
    expect(await settled(runtime, 'ff-3')).toMatchObject({ status: 'succeeded' });
    expect(userOf('future@example.com')?.active).toBe(false);
  });

  it('an email held by another active person fails for good, naming both ids, with no write', async () => {
    await send(runtime, {
      id: 'cf-1',
      type: 'hire',
      at: DAY1,
      employee: 'E-CF1',
      email: 'shared@example.com',
      roles: ['tenant-member'],
    });
    expect(await settled(runtime, 'cf-1')).toMatchObject({ status: 'succeeded' });
    const writes = sandbox.calls().filter((c) => c.method !== 'GET').length;
    await send(runtime, {
      id: 'cf-2',
      type: 'hire',
      at: DAY2,
      employee: 'E-CF2',
      email: 'shared@example.com',
      roles: ['tenant-admin'],
    });
    const failed = await settled(runtime, 'cf-2');
    expect(failed).toMatchObject({ status: 'failed' });
    expect(failed.error).toContain('E-CF1');
    expect(failed.error).toContain('E-CF2');
    expect(sandbox.calls().filter((c) => c.method !== 'GET').length).toBe(writes);
    const { json } = await api(runtime, 'GET', '/dlq');
    expect((json.deadLetters as { eventId: string }[]).map((l) => l.eventId)).toContain('cf-2');
  });
});

describe('6. a create whose answer was lost, through npm start', () => {
  let invites: RuntimeProcess;
  beforeAll(async () => {
    invites = await startRuntimeProcess({
      TFY_BASE_URL: sandbox.url,
      TFY_API_KEY: sandbox.apiKey,
      TFY_PROVISION_MODE: 'invite',
      TFY_ACCEPT_INVITE_URL: 'https://app.example.com/accept',
      // Longer than the list's lag below, short enough for a test.
      UNKNOWN_CREATE_BOUND_SECONDS: '10',
    });
  }, 60_000);
  afterAll(async () => {
    await invites?.stop();
    removeDataDir(invites.dataDir);
  });

  it('the invite takes effect but answers 503 and the list lags 3 s: no second POST /invite', async () => {
    sandbox.setFaults({
      visibilityDelayMs: 3_000,
      scripted: [{ method: 'POST', path: `/${INVITE_PATH}`, status: 503, afterEffect: true }],
    });
    try {
      await send(invites, {
        id: 'lost-1',
        type: 'hire',
        at: DAY1,
        employee: 'E-LOST',
        email: 'lost@example.com',
        roles: ['tenant-member'],
      });
      const done = await settled(invites, 'lost-1');
      expect(done).toMatchObject({ status: 'succeeded' });
      const posts = sandbox.calls().filter((c) => c.method === 'POST' && c.path.endsWith('/invite'));
      expect(posts).toHaveLength(1);
      expect(sandbox.emailsSent().filter((m) => m.to === 'lost@example.com')).toHaveLength(1);
      const outcomes = (done.steps as { action: string; outcome: string }[]).map(
        (s) => `${s.action}:${s.outcome}`,
      );
      expect(outcomes[0]).toBe('invite:unknown');
      expect(outcomes).toContain('invite:waiting');
      expect(outcomes.filter((o) => o.startsWith('invite:'))).not.toContain('invite:done');
      expect(userOf('lost@example.com')).toMatchObject({ active: true, roles: ['tenant-member'] });
    } finally {
      sandbox.setFaults({});
    }
  }, 60_000);
});
