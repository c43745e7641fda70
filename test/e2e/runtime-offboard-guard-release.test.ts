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
 * The proof, as it reads: OFFBOARD_GUARD_MAX=3 with five offboards gives three deactivated and two
 * held; after `holds release --all`, five. (runtime-offboard-guard.test.ts covers rejects and later events.)
 */
let sandbox: Sandbox;
let runtime: RuntimeProcess;

beforeAll(async () => {
  sandbox = await startSandbox();
  runtime = await startRuntimeProcess({
    TFY_BASE_URL: sandbox.url,
    TFY_API_KEY: sandbox.apiKey,
    OFFBOARD_GUARD_MAX: '3',
  });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  removeDataDir(runtime.dataDir);
  await sandbox?.close();
});

const statusOf = (id: string, wanted: string[]) =>
  waitFor(`${id} to be ${wanted.join(' or ')}`, async () => {
    const { json } = await api(runtime, 'GET', `/events/${id}`);
    return wanted.includes(String(json.status)) ? String(json.status) : undefined;
  });

describe('offboarding guard: release', () => {
  it('deactivates three of five offboards and holds two; after release --all, all five', async () => {
    const people = [1, 2, 3, 4, 5].map((n) => ({ id: `R${n}`, email: `leaver${n}@example.com` }));
    for (const p of people) sandbox.seedUser({ email: p.email, roles: ['tenant-member'] });
    const events = people.map((employee, i) => ({
      id: `release-off-${i + 1}`,
      type: 'offboard',
      occurredAt: `2026-11-02T09:00:0${i}Z`,
      employee,
    }));
    expect((await api(runtime, 'POST', '/events', { events })).status).toBe(202);
    const statuses = await Promise.all(events.map((e) => statusOf(e.id, ['succeeded', 'held'])));
    expect(statuses.filter((s) => s === 'held')).toHaveLength(2);
    const deactivated = () =>
      sandbox
        .users()
        .filter((u) => u.active === false)
        .map((u) => u.email);
    expect(deactivated()).toHaveLength(3);

    const released = await runCapturing(
      ['holds', 'release', '--all', '--url', runtime.url, '--token', runtime.token],
      {
        env: {},
        cwd: runtime.dataDir,
      },
    );
    expect(released.code, released.stderr).toBe(0);
    for (const e of events) expect(await statusOf(e.id, ['succeeded', 'failed'])).toBe('succeeded');
    expect(deactivated().sort()).toEqual(people.map((p) => p.email).sort());
    expect(sandbox.calls().filter((c) => c.path.endsWith('/deactivate'))).toHaveLength(5);
  }, 120_000);
});
