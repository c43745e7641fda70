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
 * The offboarding guard through `npm start`, operated with the CLI: OFFBOARD_GUARD_MAX=3 and five offboards
 * give three deactivations and two held events; a role change of a held person waits behind its offboard;
 * `holds release --all` deactivates the rest, in order; a reject ends the event failed with no call.
 */
let sandbox: Sandbox;
let runtime: RuntimeProcess;

beforeAll(async () => {
  sandbox = await startSandbox();
  runtime = await startRuntimeProcess({
    TFY_BASE_URL: sandbox.url,
    TFY_API_KEY: sandbox.apiKey,
    TFY_RATE_LIMIT_RPS: '200',
    OFFBOARD_GUARD_MAX: '3',
    OFFBOARD_GUARD_WINDOW_MINUTES: '60',
  });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  removeDataDir(runtime.dataDir);
  await sandbox?.close();
});

const people = ['p1', 'p2', 'p3', 'p4', 'p5'].map((n, i) => ({ id: `G${i + 1}`, email: `${n}@example.com` }));
const offboard = (id: string, employee: { id: string; email: string }, at: string) => ({
  id,
  type: 'offboard',
  occurredAt: at,
  employee,
});
const cli = (...argv: string[]) =>
  runCapturing([...argv, '--url', runtime.url, '--token', runtime.token], { env: {}, cwd: runtime.dataDir });
const deactivations = () => sandbox.calls().filter((c) => c.path.endsWith('/deactivate'));
const activeOf = (email: string) => sandbox.users().find((u) => u.email === email)?.active;

async function statusOf(id: string, wanted: string[]): Promise<string> {
  return waitFor(`${id} to be ${wanted.join(' or ')}`, async () => {
    const { json } = await api(runtime, 'GET', `/events/${id}`);
    return wanted.includes(String(json.status)) ? String(json.status) : undefined;
  });
}

describe('offboarding guard end to end (npm start)', () => {
  it('deactivates three of five, holds two; a release deactivates them in order; a reject makes no call', async () => {
    for (const p of people) sandbox.seedUser({ email: p.email, roles: ['tenant-member'] });
    const ids = people.map((_, i) => `guard-off-${i + 1}`);
    // One request: accepted in this order (sequences 1..5), each person its own message group.
    const events = people.map((p, i) => offboard(ids[i] ?? '', p, `2026-11-02T09:00:0${i}Z`));
    expect((await api(runtime, 'POST', '/events', { events })).status).toBe(202);
    const statuses = await Promise.all(ids.map((id) => statusOf(id, ['succeeded', 'held'])));
    expect(statuses.filter((s) => s === 'succeeded')).toHaveLength(3);
    expect(statuses.filter((s) => s === 'held')).toHaveLength(2);
    expect(deactivations()).toHaveLength(3);
    const heldIds = ids.filter((_, i) => statuses[i] === 'held');
    const heldPeople = people.filter((_, i) => statuses[i] === 'held');
    for (const p of heldPeople) expect(activeOf(p.email)).toBe(true);

    // GET /events?status=held and the CLI list them, with the reason.
    const listed = await api(runtime, 'GET', '/events?status=held');
    expect((listed.json.events as { id: string }[]).map((e) => e.id).sort()).toEqual([...heldIds].sort());
    const list = await cli('holds', 'list', '--json');
    expect(list.code).toBe(0);
    const holds = (JSON.parse(list.stdout) as { holds: { id: string; reason: string }[] }).holds;
    expect(holds.map((h) => h.id)).toEqual(heldIds);
    expect(holds[0]?.reason).toMatch(/3 deactivations within 60 minutes/);

    // A later role change of the first held person waits behind its offboard, with no call.
    const [first, second] = heldPeople;
    if (!first || !second) throw new Error('two people held');
    const callsBefore = sandbox.calls().length;
    const roleChange = {
      id: 'guard-role-1',
      type: 'role_change',
      occurredAt: '2026-11-02T10:00:00Z',
      employee: first,
      roles: ['tenant-admin'],
    };
    expect((await api(runtime, 'POST', '/events', roleChange)).status).toBe(202);
    expect(await statusOf('guard-role-1', ['held', 'succeeded', 'failed'])).toBe('held');
    expect(sandbox.calls().length).toBe(callsBefore);

    // Reject the second held offboard: failed with the reason, and no call.
    const rejected = await cli('holds', 'reject', '--id', heldIds[1] ?? '');
    expect(rejected).toMatchObject({ code: 0 });
    expect(rejected.stdout).toContain(`rejected 1: ${heldIds[1]}`);
    const { json: rejectedView } = await api(runtime, 'GET', `/events/${heldIds[1]}`);
    expect(rejectedView).toMatchObject({ status: 'failed', error: 'rejected by an operator' });
    expect(activeOf(second.email)).toBe(true);

    // Release all: the held offboard, then the role change behind it, in order.
    const released = await cli('holds', 'release', '--all', '--json');
    expect(released.code).toBe(0);
    expect(JSON.parse(released.stdout)).toMatchObject({
      released: [heldIds[0], 'guard-role-1'],
      notHeld: [],
    });
    expect(await statusOf(heldIds[0] ?? '', ['succeeded', 'failed'])).toBe('succeeded');
    expect(await statusOf('guard-role-1', ['succeeded', 'failed'])).toBe('succeeded');
    expect(activeOf(first.email)).toBe(false);
    expect(deactivations()).toHaveLength(4);
    expect(sandbox.calls().length).toBe(callsBefore + 2); // the offboard's read and deactivate; the role change writes nothing
    expect((await cli('holds', 'list')).stdout).toContain('no held events');

    // Releasing again names what is no longer held, and says so in the exit code.
    const again = await cli('holds', 'release', '--id', heldIds[0] ?? '');
    expect(again.code).toBe(1);
    expect(again.stdout).toContain(`not held: ${heldIds[0]}`);
  }, 120_000);

  it('refuses bad bodies with 400 naming the field, and records nothing', async () => {
    const cases: [string, unknown, string][] = [
      ['/holds/release', { ids: [] }, 'ids'],
      ['/holds/release', { all: false }, 'all'],
      ['/holds/release', { ids: 'x' }, 'ids'],
      ['/holds/release', { everything: true }, 'everything'],
      ['/holds/reject', { all: true }, 'all'],
      ['/holds/reject', { ids: [''] }, 'ids.0'],
    ];
    for (const [path, body, field] of cases) {
      const answer = await api(runtime, 'POST', path, body as object);
      expect(answer.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect((answer.json.issues as { path: string }[]).map((i) => i.path)).toContain(field);
    }
    const unauthorized = await fetch(`${runtime.url}/holds`);
    expect(unauthorized.status).toBe(401);
    // The CLI refuses what it cannot send, before any request.
    expect(await cli('holds', 'release')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--all, or --id'),
    });
    expect(await cli('holds', 'release', '--all', '--id', 'x')).toMatchObject({ code: 1 });
    expect(await cli('holds', 'reject', '--all')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('no --all'),
    });
    expect(await cli('holds', 'pause')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('list, release or reject'),
    });
    expect((await api(runtime, 'GET', '/holds')).json).toEqual({ holds: [] });
  });
});
