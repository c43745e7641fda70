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

const ROWS = 500;
const ROLES = ['tenant-member', 'tenant-admin', 'tenant-viewer'];

let sandbox: Sandbox;
const dataDir = newDataDir();

beforeAll(async () => {
  sandbox = await startSandbox({ faults: { latencyMs: 5 } });
});

afterAll(async () => {
  removeDataDir(dataDir);
  await sandbox?.close();
});

const env = () => ({
  TFY_BASE_URL: sandbox.url,
  TFY_API_KEY: sandbox.apiKey,
  TFY_RATE_LIMIT_RPS: '150',
  WORKER_CONCURRENCY: '8',
  // A create in flight at the kill -9 may have happened: its next delivery waits this long for the account
  // to appear before creating again. Short here, so the test does not wait out the two-minute default.
  UNKNOWN_CREATE_BOUND_SECONDS: '2',
});

function batchCsv(): string {
  const lines = ['id,type,employee_id,email,name,roles,occurred_at'];
  for (let i = 0; i < ROWS; i++) {
    lines.push(
      `crash-${i},hire,E${i},person${i}@example.com,"Person ${i}",${ROLES[i % 3]},2026-11-29T09:00:00Z`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function countByStatus(runtime: RuntimeProcess, status: string): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const query = `/events?status=${status}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const { json } = await api(runtime, 'GET', query);
    count += (json.events as unknown[]).length;
    cursor = json.cursor as string | undefined;
  } while (cursor);
  return count;
}

describe('durability of the local runtime', () => {
  it('finishes every accepted event of a 500-row batch after kill -9 and a SIGTERM, creating nobody twice', async () => {
    let runtime = await startRuntimeProcess(env(), dataDir);
    const accepted = await api(runtime, 'POST', '/batch?batchId=crash-test', batchCsv(), 'text/csv');
    expect(accepted).toMatchObject({ status: 202, json: { accepted: ROWS, rejected: [] } });

    await waitFor('some events done', async () =>
      (await countByStatus(runtime, 'succeeded')) >= 60 ? true : undefined,
    );
    await runtime.kill9();
    const createdBeforeCrash = sandbox.calls().filter((c) => c.effect === 'created').length;
    expect(createdBeforeCrash).toBeLessThan(ROWS);

    runtime = await startRuntimeProcess(env(), dataDir);
    await waitFor('more events done', async () =>
      (await countByStatus(runtime, 'succeeded')) >= createdBeforeCrash + 60 ? true : undefined,
    );
    expect(await runtime.stop()).toBe(0);

    runtime = await startRuntimeProcess(env(), dataDir);
    await waitFor(
      'all events done',
      async () => ((await countByStatus(runtime, 'succeeded')) === ROWS ? true : undefined),
      90_000,
    );
    expect(await countByStatus(runtime, 'failed')).toBe(0);
    expect(await runtime.stop()).toBe(0);

    const users = sandbox.users();
    expect(users).toHaveLength(ROWS);
    for (let i = 0; i < ROWS; i++) {
      const user = users.find((u) => u.email === `person${i}@example.com`);
      expect(user?.roles, `person${i}`).toEqual([ROLES[i % 3]]);
    }
    const creates = new Map<string, number>();
    for (const call of sandbox.calls().filter((c) => c.effect === 'created')) {
      const email = (call.body as { email: string }).email;
      creates.set(email, (creates.get(email) ?? 0) + 1);
    }
    expect(creates.size).toBe(ROWS);
    expect([...creates.values()].every((n) => n === 1)).toBe(true);
  }, 180_000);
});
