import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime, terminalStatus } from './support/cli-harness';

/*
 * `hr-provisioning reconcile` against a local runtime and its sandbox: the report as JSON and in sections,
 * --apply submitting the events, and a bad roster named by its lines with nothing submitted.
 */

describe('hr-provisioning reconcile against the local runtime', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime({ RECONCILE_IGNORE: 'svc-*@example.com' });
    const sandbox = rt.runtime.sandbox!;
    sandbox.seedUser({ email: 'keep@example.com', roles: ['tenant-member'] });
    sandbox.seedUser({ email: 'orphan@example.com', roles: ['tenant-viewer'] });
    sandbox.seedUser({ email: 'svc-ci@example.com', roles: ['tenant-admin'] });
  });
  afterAll(async () => {
    await rt.close();
  });

  const roster = (name: string, text: string) => {
    writeFileSync(join(rt.workDir, name), text);
    return name;
  };

  it('--json prints the exact report and submits nothing', async () => {
    const file = roster('roster.csv', 'email,employee_id\nkeep@example.com,E1\nnew@example.com,E2\n');
    const run = await rt.cli(['reconcile', file, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      missing: [{ email: 'new@example.com', reason: 'not in TrueFoundry' }],
      orphans: [{ email: 'orphan@example.com', roles: ['tenant-viewer'] }],
      roleDrift: [],
      ignored: ['svc-ci@example.com'],
    });
    const events = await rt.cli(['events', '--json']);
    expect(JSON.parse(events.stdout)).toEqual({ events: [] });
  });

  it('a bad roster is refused with its lines, exit code 1, nothing submitted', async () => {
    const file = roster('bad.csv', 'email\nnot-an-email\nkeep@example.com\n');
    const run = await rt.cli(['reconcile', file, '--apply']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: bad\.csv: 1 row\(s\) of the roster are invalid.*\n {2}line 2: email: /,
    );
    const events = await rt.cli(['events', '--json']);
    expect(JSON.parse(events.stdout)).toEqual({ events: [] });
  });

  it('--apply prints the sections and the events submitted, which converge TrueFoundry', async () => {
    const file = roster('roster.csv', 'email,employee_id\nkeep@example.com,E1\nnew@example.com,E2\n');
    const run = await rt.cli(['reconcile', file, '--apply']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'missing: on the roster, without access (1)\n  new@example.com  not in TrueFoundry\n',
    );
    expect(run.stdout).toContain(
      'orphans: active in TrueFoundry, not on the roster (1)\n  orphan@example.com  roles: tenant-viewer\n',
    );
    expect(run.stdout).toContain('role drift (0)\n  none\n');
    expect(run.stdout).toContain('ignored (RECONCILE_IGNORE) (1)\n  svc-ci@example.com\n');
    const ids = [...run.stdout.matchAll(/^ {2}(reconcile-\S+) {2}(hire|offboard) (\S+)$/gm)].map((m) => [
      m[1]!,
      m[2],
      m[3],
    ]);
    expect(ids.map(([, type, email]) => `${type} ${email}`).sort()).toEqual([
      'hire new@example.com',
      'offboard orphan@example.com',
    ]);
    for (const [id] of ids) expect(await terminalStatus(rt, id!)).toBe('succeeded');

    const again = await rt.cli(['reconcile', file, '--json']);
    expect(JSON.parse(again.stdout)).toEqual({
      missing: [],
      orphans: [],
      roleDrift: [],
      ignored: ['svc-ci@example.com'],
    });
  });
});
