import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsvBatch } from '../../functions/core/ingest/csv';
import { type Sandbox, startSandbox } from '../../sandbox';
import {
  api,
  type RuntimeProcess,
  removeDataDir,
  startRuntimeProcess,
  waitFor,
} from '../support/runtime-process';

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

const EMAIL = 'reupload@example.com';
// No id and no occurred_at: the id is derived per batch, the time is when the file arrives.
const HIRE_CSV = `type,employee_id,email,roles\nhire,E-reupload,${EMAIL},tenant-member\n`;
const OFFBOARD_CSV = `type,employee_id,email\noffboard,E-reupload,${EMAIL}\n`;

/** The id the server derives for the single row of `csv` in `batchId` (it does not depend on the time). */
function derivedId(csv: string, batchId: string): string {
  const [row] = parseCsvBatch(csv, { receivedAt: new Date().toISOString(), batchId }).accepted;
  if (!row) throw new Error('the test CSV has no valid row');
  return row.event.id;
}

async function upload(csv: string, batchId: string) {
  const answer = await api(runtime, 'POST', `/batch?batchId=${batchId}`, csv, 'text/csv');
  expect(answer.status).toBe(202);
  return answer.json;
}

async function succeeded(id: string): Promise<Record<string, unknown>> {
  return waitFor(`${id} to end`, async () => {
    const { json } = await api(runtime, 'GET', `/events/${id}`);
    return ['succeeded', 'superseded', 'failed'].includes(json.status as string) ? json : undefined;
  });
}

const user = () => sandbox.users().find((u) => u.email === EMAIL);

describe('uploading the same CSV row again in a new batch', () => {
  it('is a new instruction: an offboard re-sent after a rehire deactivates the person again', async () => {
    expect(await upload(HIRE_CSV, 'reupload-hire')).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(await succeeded(derivedId(HIRE_CSV, 'reupload-hire'))).toMatchObject({ status: 'succeeded' });
    expect(user()).toMatchObject({ active: true });

    expect(await upload(OFFBOARD_CSV, 'reupload-off-1')).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(await succeeded(derivedId(OFFBOARD_CSV, 'reupload-off-1'))).toMatchObject({ status: 'succeeded' });
    expect(user()?.active).toBe(false);

    // Later than the first offboard's receipt time, earlier than the second's.
    const rehire = await api(runtime, 'POST', '/events', {
      id: 'reupload-rehire',
      type: 'hire',
      occurredAt: new Date().toISOString(),
      employee: { id: 'E-reupload', email: EMAIL },
      roles: ['tenant-member'],
    });
    expect(rehire.status).toBe(202);
    expect(await succeeded('reupload-rehire')).toMatchObject({ status: 'succeeded' });
    expect(user()?.active).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, 20));
    const again = await upload(OFFBOARD_CSV, 'reupload-off-2');
    expect(again).toMatchObject({ accepted: 1, duplicates: 0, rejected: [] });
    const secondOffboard = derivedId(OFFBOARD_CSV, 'reupload-off-2');
    expect(secondOffboard).not.toBe(derivedId(OFFBOARD_CSV, 'reupload-off-1'));
    expect(await succeeded(secondOffboard)).toMatchObject({ status: 'succeeded' });
    expect(user()?.active).toBe(false);
  });
});
