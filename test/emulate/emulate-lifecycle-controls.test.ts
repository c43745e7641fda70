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
 * Issue 13's controls on the synthesized stack: the preview in the ingest bundle reads TrueFoundry through
 * the secret the stack grants it and writes nothing; the guard in the worker bundle holds offboards past
 * `offboardGuardMax`, and the operator bundle's /holds routes (IAM on AWS; the token stands in) release them;
 * the operator bundle's POST /reconcile reads all of TrueFoundry and answers the exact report.
 */

let sandbox: Sandbox;
let emulator: RuntimeProcess;

beforeAll(async () => {
  sandbox = await startSandbox();
  emulator = await startEmulatorProcess({
    TFY_BASE_URL: sandbox.url,
    TFY_API_KEY: sandbox.apiKey,
    EMULATE_CONTEXT: JSON.stringify({ offboardGuardMax: 1, reconcileIgnore: 'svc-*@example.com' }),
  });
}, 200_000);

afterAll(async () => {
  if (emulator) {
    await emulator.stop();
    removeDataDir(emulator.dataDir);
  }
  await sandbox?.close();
});

const writes = () => sandbox.calls().filter((call) => call.method !== 'GET');
const control = () => {
  const url = /control\s+(http:\/\/\S+?):? /.exec(emulator.output())?.[1];
  if (!url) throw new Error('the emulator banner names no control endpoint');
  return url;
};

describe('npm run emulate: the lifecycle controls', () => {
  // First: the report covers every account in the sandbox, so it runs before the others seed theirs.
  it('reconciles a roster against TrueFoundry through the operator function: the exact report', async () => {
    sandbox.seedUser({ email: 'keep@example.com', roles: ['tenant-member'] });
    sandbox.seedUser({ email: 'drift@example.com', roles: ['tenant-member'] });
    sandbox.seedUser({ email: 'orphan@example.com', roles: ['tenant-member'] });
    sandbox.seedUser({ email: 'svc-bot@example.com', roles: ['tenant-admin'] });
    const roster = [
      'email,employee_id,name,department,title,roles',
      'keep@example.com,E1,Keep,,,tenant-member',
      'drift@example.com,E2,Drift,,,tenant-admin',
      'new@example.com,E3,New,,,tenant-member',
    ].join('\n');
    const answer = await api(emulator, 'POST', '/reconcile', roster, 'text/csv');
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect(answer.json).toEqual({
      missing: [{ email: 'new@example.com', reason: 'not in TrueFoundry' }],
      orphans: [{ email: 'orphan@example.com', roles: ['tenant-member'] }],
      roleDrift: [
        {
          email: 'drift@example.com',
          resourceType: 'tenant',
          want: ['tenant-admin'],
          have: ['tenant-member'],
        },
      ],
      ignored: ['svc-bot@example.com'],
    });
    expect(writes()).toEqual([]);
  });

  it('previews a hire and an offboard against TrueFoundry with no write, no record and nothing queued', async () => {
    sandbox.seedUser({ email: 'preview.leaver@example.com', roles: ['tenant-member'] });
    const before = writes().length;
    const events = [
      hire('prev-1', 'E-PREV-1', 'preview.new@example.com'),
      { ...hire('prev-2', 'E-PREV-2', 'preview.leaver@example.com'), type: 'offboard', roles: undefined },
    ];
    const answer = await api(emulator, 'POST', '/events?dryRun=true', { events });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect(answer.json).toMatchObject({
      dryRun: true,
      plans: [
        { id: 'prev-1', email: 'preview.new@example.com', actions: ['register', 'set-roles:tenant'] },
        { id: 'prev-2', email: 'preview.leaver@example.com', actions: ['deactivate'] },
      ],
      summary: { create: 1, 'set-roles': 1, deactivate: 1 },
    });
    expect(writes().length).toBe(before);
    expect((await api(emulator, 'GET', '/events/prev-1')).status).toBe(404);
  });

  it('holds the offboard past the limit; the operator route releases it and the worker deactivates', async () => {
    const leavers = ['hold.a@example.com', 'hold.b@example.com'];
    for (const email of leavers) sandbox.seedUser({ email, roles: ['tenant-member'] });
    const events = leavers.map((email, i) => ({
      id: `hold-${i + 1}`,
      type: 'offboard',
      occurredAt: `2026-11-02T09:00:0${i}Z`,
      employee: { id: `E-HOLD-${i + 1}`, email },
    }));
    expect((await api(emulator, 'POST', '/events', { events })).status).toBe(202);
    const held = await waitFor('one offboard held', async () => {
      const { status, json } = await api(emulator, 'GET', '/holds');
      const holds = status === 200 ? (json.holds as { id: string }[]) : [];
      return holds.length === 1 ? holds : undefined;
    });
    const active = () => sandbox.users().filter((u) => leavers.includes(u.email) && u.active !== false);
    expect(active()).toHaveLength(1);

    const release = await hrProvisioning(emulator, ['holds', 'release', '--all']);
    expect(release.code, release.stderr).toBe(0);
    expect(await settled(emulator, held[0]?.id ?? '')).toMatchObject({ status: 'succeeded' });
    expect(active()).toEqual([]);
  });

  it('schedules an event effective later in the table; the minute rule queues it once due, not before; a cancel wins over it', async () => {
    const due = new Date(Date.now() + 4_000).toISOString();
    const later = (id: string, email: string) => ({
      ...hire(id, `E-${id}`, email),
      occurredAt: new Date().toISOString(),
      effectiveAt: due,
    });
    const accepted = await api(emulator, 'POST', '/events', {
      events: [
        later('sched-run', 'sched.run@example.com'),
        later('sched-cancel', 'sched.cancel@example.com'),
      ],
    });
    expect(accepted.status, JSON.stringify(accepted.json)).toBe(202);
    expect(accepted.json.events).toEqual([
      { id: 'sched-run', status: 'scheduled', dueAt: due },
      { id: 'sched-cancel', status: 'scheduled', dueAt: due },
    ]);
    expect((await api(emulator, 'GET', '/events/sched-run')).json).toMatchObject({
      status: 'scheduled',
      dueAt: due,
    });

    // Before its time the rule queues nothing (the table's index holds it; SQS never sees it).
    const runNow = async () =>
      (await (await fetch(`${control()}/__emulate/schedules/run`, { method: 'POST' })).json()) as {
        rule: string;
        payload?: { released?: number };
      }[];
    const early = (await runNow()).find((r) => r.rule.includes('ScheduledEventsRelease'));
    expect(early?.payload).toEqual({ released: 0, failed: 0 });
    // The operator λ cancels one (IAM route on AWS), through the CLI.
    const cancel = await hrProvisioning(emulator, ['cancel', 'sched-cancel']);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toContain('sched-cancel: cancelled');

    await waitFor('the effective time to pass', async () =>
      Date.now() > Date.parse(due) ? true : undefined,
    );
    const released = (await runNow()).find((r) => r.rule.includes('ScheduledEventsRelease'));
    expect(released?.payload).toEqual({ released: 1, failed: 0 });
    expect(await settled(emulator, 'sched-run')).toMatchObject({ status: 'succeeded' });
    const first = sandbox
      .calls()
      .filter(
        (c) =>
          JSON.stringify(c.body ?? '').includes('sched.run@example.com') ||
          c.query.email === 'sched.run@example.com',
      )
      .map((c) => c.at)
      .sort()[0];
    expect(first !== undefined && first >= due).toBe(true);
    expect((await api(emulator, 'GET', '/events/sched-cancel')).json).toMatchObject({
      status: 'cancelled',
      steps: [],
    });
    expect(sandbox.users().find((u) => u.email === 'sched.cancel@example.com')).toBeUndefined();
    // It ran: a cancel now is refused with its status.
    const late = await hrProvisioning(emulator, ['cancel', 'sched-run']);
    expect(late.code).toBe(1);
    expect(late.stderr).toContain('is succeeded and cannot be cancelled');
  }, 120_000);
});
