import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
 * Reconciliation on `npm start`, end to end: a seeded TrueFoundry and a roster give the exact report; the CLI
 * applies it through the runtime; the worker runs the events; a second reconcile finds nothing left, and the
 * ignored accounts were never touched.
 */
let sandbox: Sandbox;
let runtime: RuntimeProcess;

beforeAll(async () => {
  sandbox = await startSandbox();
  runtime = await startRuntimeProcess({
    TFY_BASE_URL: sandbox.url,
    TFY_API_KEY: sandbox.apiKey,
    TFY_RATE_LIMIT_RPS: '200',
    RECONCILE_IGNORE: 'svc-*@example.com, root@example.com',
  });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  removeDataDir(runtime.dataDir);
  await sandbox?.close();
});

const ROSTER = [
  'email,employee_id,name,department,title,roles',
  'keep@example.com,E1,Keep,,,',
  'drift@example.com,E2,Drift,,,tenant-viewer',
  'gone@example.com,E3,Gone,,,',
  'new@example.com,E4,New,,,',
  'lead@example.com,E5,Lead,ML Platform,Director,',
].join('\n');

async function terminal(id: string): Promise<string> {
  return waitFor(`${id} to finish`, async () => {
    const { json } = await api(runtime, 'GET', `/events/${encodeURIComponent(id)}`);
    const status = json.status as string;
    return ['succeeded', 'superseded', 'failed'].includes(status)
      ? `${status}${json.error ? `: ${json.error}` : ''}`
      : undefined;
  });
}

describe('reconcile on npm start', () => {
  it('reports exactly, applies through the CLI, and then finds nothing left', async () => {
    // A leaver the pipeline provisioned, whose offboard never came: an orphan, offboarded as employee E9.
    const hired = await api(runtime, 'POST', '/events', {
      id: 'evt-leaver',
      type: 'hire',
      occurredAt: '2026-11-01T09:00:00Z',
      employee: { id: 'E9', email: 'leaver@example.com' },
      roles: ['tenant-member'],
    });
    expect(hired.status).toBe(202);
    expect(await terminal('evt-leaver')).toBe('succeeded');

    sandbox.seedUser({ email: 'keep@example.com', roles: ['tenant-member'] });
    sandbox.seedUser({ email: 'drift@example.com', roles: ['tenant-member', 'tenant-admin'] });
    sandbox.seedUser({ email: 'gone@example.com', roles: ['tenant-member'], active: false });
    // The mapping's rule gives an ML Platform director tenant-admin: the roster row has no roles.
    sandbox.seedUser({ email: 'lead@example.com', roles: ['tenant-member'] });
    sandbox.seedUser({ email: 'by-hand@example.com', roles: ['tenant-admin'] });
    sandbox.seedUser({ email: 'svc-deploy@example.com', roles: ['tenant-admin'] });
    sandbox.seedUser({ email: 'root@example.com', roles: ['tenant-admin'] });
    sandbox.seedUser({ email: 'former@example.com', roles: ['tenant-member'], active: false });

    const report = await api(runtime, 'POST', '/reconcile', ROSTER, 'text/csv');
    expect(report.status).toBe(200);
    expect(report.json).toEqual({
      missing: [
        { email: 'gone@example.com', reason: 'deactivated' },
        { email: 'new@example.com', reason: 'not in TrueFoundry' },
      ],
      orphans: [
        { email: 'by-hand@example.com', roles: ['tenant-admin'] },
        { email: 'leaver@example.com', roles: ['tenant-member'] },
      ],
      roleDrift: [
        {
          email: 'drift@example.com',
          resourceType: 'tenant',
          want: ['tenant-viewer'],
          have: ['tenant-admin', 'tenant-member'],
        },
        {
          email: 'lead@example.com',
          resourceType: 'tenant',
          want: ['tenant-admin'],
          have: ['tenant-member'],
        },
      ],
      ignored: ['root@example.com', 'svc-deploy@example.com'],
    });

    // The CLI, as an operator runs it against this runtime: the credentials of TrueFoundry stay in it.
    const dir = runtime.dataDir;
    writeFileSync(join(dir, 'roster.csv'), ROSTER);
    const run = await runCapturing(['reconcile', 'roster.csv', '--apply', '--json'], {
      env: { HRP_URL: runtime.url, INGEST_TOKEN: runtime.token },
      cwd: dir,
      sleep: async () => {},
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const applied = JSON.parse(run.stdout) as {
      applied: { id: string; type: string; email: string }[];
      refused: unknown[];
    };
    expect(applied.refused).toEqual([]);
    expect(applied.applied.map((a) => `${a.type} ${a.email}`).sort()).toEqual([
      'hire gone@example.com',
      'hire new@example.com',
      'offboard by-hand@example.com',
      'offboard leaver@example.com',
      'role_change drift@example.com',
      'role_change lead@example.com',
    ]);
    for (const { id } of applied.applied) expect(await terminal(id)).toBe('succeeded');
    const leaverOffboard = applied.applied.find((a) => a.email === 'leaver@example.com')!;
    const { json: offboard } = await api(runtime, 'GET', `/events/${leaverOffboard.id}`);
    expect(offboard).toMatchObject({ source: 'reconcile', employee: { id: 'E9' } });

    const again = await api(runtime, 'POST', '/reconcile', ROSTER, 'text/csv');
    expect(again.json).toEqual({
      missing: [],
      orphans: [],
      roleDrift: [],
      ignored: ['root@example.com', 'svc-deploy@example.com'],
    });
    const users = new Map(sandbox.users().map((u) => [u.email, u]));
    expect(users.get('svc-deploy@example.com')).toMatchObject({ active: true, roles: ['tenant-admin'] });
    expect(users.get('root@example.com')).toMatchObject({ active: true, roles: ['tenant-admin'] });
    expect(users.get('former@example.com')?.active).toBe(false);
    const ignoredWrites = sandbox
      .calls()
      .filter((c) => c.method !== 'GET' && /svc-deploy|root@/.test(JSON.stringify(c.body) + c.path));
    expect(ignoredWrites).toEqual([]);
  });

  it('refuses a bad roster with its lines and submits nothing', async () => {
    const before = await api(runtime, 'GET', '/events?limit=500');
    const bad = await api(runtime, 'POST', '/reconcile?apply=true', 'email\nnot-an-email\n', 'text/csv');
    expect(bad.status).toBe(400);
    expect(bad.json.rejected).toEqual([{ line: 2, error: expect.stringMatching(/^email: /) }]);
    const wrongType = await api(runtime, 'POST', '/reconcile?apply=true', ROSTER, 'application/json');
    expect(wrongType.status).toBe(415);
    const after = await api(runtime, 'GET', '/events?limit=500');
    expect(after.json.events).toEqual(before.json.events);
  });
});
