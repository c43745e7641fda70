import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox';
import {
  api,
  newDataDir,
  type RuntimeProcess,
  removeDataDir,
  startRuntimeProcess,
  waitFor,
} from '../support/runtime-process';

/*
 * A 202 from POST /events means the event is on disk (local/group-commit.ts): concurrent requests share one
 * transaction and one sync, and none is answered before its group's commit. Proven here the hard way: the
 * runtime is killed with SIGKILL while requests are still arriving, and every event it had answered 202
 * must be there after a restart on the same data directory, and converge, each person created once.
 */

const REQUESTS = 240;
const CONCURRENCY = 24;
/** The kill comes once this many 202s are in, with the rest of the requests in flight. */
const KILL_AFTER = 80;

let sandbox: Sandbox;
const dataDir = newDataDir();

beforeAll(async () => {
  sandbox = await startSandbox({ faults: { latencyMs: 2 } });
});

afterAll(async () => {
  removeDataDir(dataDir);
  await sandbox?.close();
});

const env = () => ({
  TFY_BASE_URL: sandbox.url,
  TFY_API_KEY: sandbox.apiKey,
  TFY_RATE_LIMIT_RPS: '200',
  WORKER_CONCURRENCY: '8',
  // A create in flight at the kill may have happened: its next delivery waits this long for the account.
  UNKNOWN_CREATE_BOUND_SECONDS: '2',
});

const eventOf = (i: number) => ({
  id: `gc-${i}`,
  type: 'hire',
  occurredAt: '2026-11-29T09:00:00Z',
  employee: { id: `GC${i}`, email: `gc${i}@example.com`, name: `Group Commit ${i}` },
  roles: ['tenant-member'],
});

/** Posts the events CONCURRENCY at a time; kills the runtime once KILL_AFTER are answered 202. */
async function postUntilKilled(runtime: RuntimeProcess): Promise<Set<string>> {
  const answered = new Set<string>();
  let killed: Promise<void> | undefined;
  let next = 0;
  const lane = async () => {
    while (next < REQUESTS && killed === undefined) {
      const event = eventOf(next++);
      try {
        const { status } = await api(runtime, 'POST', '/events', event);
        if (status === 202) answered.add(event.id);
      } catch {
        // The connection died with the process: not answered, so the sender would retry it.
      }
      if (answered.size >= KILL_AFTER) killed ??= runtime.kill9();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  await killed;
  return answered;
}

async function succeededIds(runtime: RuntimeProcess): Promise<Set<string>> {
  const ids = new Set<string>();
  let cursor: string | undefined;
  do {
    const query = `/events?status=succeeded&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const { json } = await api(runtime, 'GET', query);
    for (const event of json.events as { id: string }[]) ids.add(event.id);
    cursor = json.cursor as string | undefined;
  } while (cursor);
  return ids;
}

describe('group commit in the local runtime', () => {
  it('keeps every event answered 202 through a kill -9, and converges each once', async () => {
    let runtime = await startRuntimeProcess(env(), dataDir);
    const answered = await postUntilKilled(runtime);
    expect(answered.size).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(answered.size).toBeLessThan(REQUESTS);

    runtime = await startRuntimeProcess(env(), dataDir);
    const missing = [];
    for (const id of answered) {
      const { status } = await api(runtime, 'GET', `/events/${id}`);
      if (status !== 200) missing.push(id);
    }
    expect(missing).toEqual([]);
    await waitFor(
      'every event answered 202 succeeded',
      async () => {
        const succeeded = await succeededIds(runtime);
        return [...answered].every((id) => succeeded.has(id)) ? true : undefined;
      },
      60_000,
    );
    expect(await runtime.stop()).toBe(0);

    const creates = new Map<string, number>();
    for (const call of sandbox.calls().filter((c) => c.effect === 'created')) {
      const email = (call.body as { email: string }).email;
      creates.set(email, (creates.get(email) ?? 0) + 1);
    }
    for (const id of answered) expect(creates.get(`${id.replace('gc-', 'gc')}@example.com`), id).toBe(1);
  }, 120_000);
});
