import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox';
import { api, type RuntimeProcess, removeDataDir, startEmulatorProcess } from '../support/runtime-process';
import { hire, settled } from './emulate-harness';

/*
 * The deployed bundles on the emulated stack: the policy file reaches the ingest λ (issue 10), and a
 * person's events held back behind a failing one come back with it, spending no attempt of their own, while
 * other people's events go on (issue 11).
 */

let sandbox: Sandbox;
let emulator: RuntimeProcess;

beforeAll(async () => {
  sandbox = await startSandbox();
  emulator = await startEmulatorProcess({
    TFY_BASE_URL: sandbox.url,
    TFY_API_KEY: sandbox.apiKey,
    POLICY_FILE: 'config/policy.json',
  });
}, 200_000);

afterAll(async () => {
  if (emulator) {
    await emulator.stop();
    removeDataDir(emulator.dataDir);
  }
  await sandbox?.close();
});

describe('npm run emulate: the policy in the ingest bundle', () => {
  it('refuses a role over the ceiling, a foreign domain and a protected account, recording nothing', async () => {
    const refusals = [
      {
        ...hire('pol-1', 'E-POL-1', 'pol1@example.com'),
        resourceRoles: [{ resourceType: 'cluster', roles: ['cluster-admin'] }],
      },
      hire('pol-2', 'E-POL-2', 'someone@elsewhere.org'),
      { ...hire('pol-3', 'E-POL-3', 'admin@example.com'), type: 'offboard', roles: undefined },
    ];
    for (const event of refusals) {
      const answer = await api(emulator, 'POST', '/events', event);
      expect(answer.status, JSON.stringify(answer.json)).toBe(422);
      expect(answer.json.error).toBe('refused_by_policy');
      expect(String(answer.json.message)).toContain(event.id);
      expect((await api(emulator, 'GET', `/events/${event.id}`)).status).toBe(404);
    }
    expect(String((await api(emulator, 'POST', '/events', refusals[1])).json.message)).toContain(
      'elsewhere.org',
    );
    expect(sandbox.calls()).toHaveLength(0);
  });
});

describe('npm run emulate: order and attempts per person', () => {
  it('holds a person back behind a failing event, spends no attempt of theirs, and lets others through', async () => {
    sandbox.reset();
    // A rehire of a deactivated user: the activation fails with 503s (the client's four tries), which only
    // the held person's event calls, so their hire comes back after its delay, and the other person's not.
    sandbox.seedUser({ email: 'held@example.com', active: false });
    sandbox.setFaults({
      scripted: [{ method: 'PATCH', path: '/api/svc/v1/users/activate', status: 503, times: 4 }],
    });
    const first = hire('ord-1', 'E-ORD', 'held@example.com');
    const second = { ...first, id: 'ord-2', type: 'role_change', occurredAt: '2026-01-06T09:00:00Z' };
    const other = hire('ord-3', 'E-FREE', 'free@example.com');
    const answer = await api(emulator, 'POST', '/events', [first, second, other]);
    expect(answer.status, JSON.stringify(answer.json)).toBe(202);

    const free = await settled(emulator, 'ord-3').catch((error: Error) => {
      throw new Error(`${error.message}\n${emulator.output().slice(-6000)}`);
    });
    expect(free).toMatchObject({ status: 'succeeded' });
    const head = await settled(emulator, 'ord-1');
    const held = await settled(emulator, 'ord-2');
    expect(head).toMatchObject({ status: 'succeeded' });
    expect(head.attempts).toBeGreaterThanOrEqual(2);
    // Held back behind the head: received again with it, but never started before it succeeded.
    expect(held).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(
      sandbox
        .users()
        .map((u) => u.email)
        .sort(),
    ).toEqual(['free@example.com', 'held@example.com']);
    // Nothing became a Lambda error: a batch of retries is reported item by item.
    expect(emulator.output()).not.toContain('FullBatchFailureError');
  }, 60_000);
});
