import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailDigest } from '../../functions/core/privacy/redact';
import { type Sandbox, startSandbox } from '../../sandbox';
import {
  api,
  type RuntimeProcess,
  removeDataDir,
  startRuntimeProcess,
  waitFor,
} from '../support/runtime-process';

/**
 * `npm start` forgets a person: their events, dead letters and state go, from the API and from the file
 * itself, and what is left is one audit line that names them by a digest.
 */
let sandbox: Sandbox;
let runtime: RuntimeProcess;

beforeAll(async () => {
  sandbox = await startSandbox();
  runtime = await startRuntimeProcess({
    TFY_BASE_URL: sandbox.url,
    TFY_API_KEY: sandbox.apiKey,
    TFY_RATE_LIMIT_RPS: '200',
    // The audit line is an INFO line; every line is checked for the address.
    LOG_LEVEL: 'INFO',
  });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  removeDataDir(runtime.dataDir);
  await sandbox?.close();
});

const ADA = { id: 'E1', email: 'ada.lovelace@example.com', name: 'Ada Lovelace', title: 'Analyst' };
const BOB = { id: 'E2', email: 'bob.babbage@example.com', name: 'Bob Babbage' };
const hire = (id: string, employee: object, at: string) => ({
  id,
  type: 'hire',
  occurredAt: at,
  employee,
  roles: ['tenant-member'],
});

async function settled(id: string, wanted: string): Promise<void> {
  await waitFor(`${id} to be ${wanted}`, async () => {
    const { json } = await api(runtime, 'GET', `/events/${id}`);
    return json.status === wanted ? true : undefined;
  });
}

/** Every row of every table of the runtime's file, as text. */
function everyRow(): string {
  const db = new Database(join(runtime.dataDir, 'pipeline.db'), { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
    }[];
    return tables.map((t) => JSON.stringify(db.prepare(`SELECT * FROM "${t.name}"`).all())).join('\n');
  } finally {
    db.close();
  }
}

describe('POST /forget on npm start', () => {
  it('erases a person’s events, dead letters and state, and leaves an audit line without their email', async () => {
    const answer = await api(runtime, 'POST', '/events', {
      events: [
        hire('evt-ada-1', ADA, '2026-11-02T09:00:00Z'),
        hire('evt-bob-1', BOB, '2026-11-02T09:00:00Z'),
        { ...hire('evt-ada-2', ADA, '2026-11-02T10:00:00Z'), type: 'role_change', roles: ['tenant-admin'] },
      ],
    });
    expect(answer.status).toBe(202);
    await settled('evt-ada-2', 'succeeded');
    await settled('evt-bob-1', 'succeeded');
    // Ada's next event names Bob's address, which is his: it fails for good into the dead letters.
    await api(runtime, 'POST', '/events', {
      events: [hire('evt-ada-3', { ...ADA, email: BOB.email }, '2026-11-02T11:00:00Z')],
    });
    await settled('evt-ada-3', 'failed');
    const dlq = await api(runtime, 'GET', '/dlq');
    expect((dlq.json.deadLetters as { eventId: string }[]).map((l) => l.eventId)).toEqual(['evt-ada-3']);
    expect(everyRow()).toContain(ADA.email);
    const fileBytes = () =>
      Buffer.concat(['pipeline.db', 'pipeline.db-wal'].map((f) => readFileSync(join(runtime.dataDir, f))));
    expect(fileBytes().includes(ADA.email)).toBe(true);

    const forgot = await api(runtime, 'POST', '/forget', { employeeId: 'E1' });

    expect(forgot.status).toBe(200);
    expect(forgot.json.forgotten).toMatchObject({
      events: 3,
      people: 1,
      emails: 1,
      queued: 0,
      deadLetters: 1,
      by: 'token',
    });
    for (const id of ['evt-ada-1', 'evt-ada-2', 'evt-ada-3']) {
      expect((await api(runtime, 'GET', `/events/${id}`)).status).toBe(404);
    }
    expect((await api(runtime, 'GET', '/dlq')).json.deadLetters).toEqual([]);
    // Bob is untouched.
    expect((await api(runtime, 'GET', '/events/evt-bob-1')).json.status).toBe('succeeded');

    // Nothing of Ada in any row of the file, nor in its bytes: deleted rows are zeroed, the log truncated.
    const rows = everyRow();
    expect(rows).not.toContain(ADA.email);
    expect(rows).not.toContain('Lovelace');
    expect(rows).toContain(BOB.email);
    for (const file of ['pipeline.db', 'pipeline.db-wal']) {
      const bytes = readFileSync(join(runtime.dataDir, file));
      expect({ file, holdsEmail: bytes.includes(ADA.email) }).toEqual({ file, holdsEmail: false });
      expect({ file, holdsName: bytes.includes('Lovelace') }).toEqual({ file, holdsName: false });
    }

    // The audit: a durable row and a log line, with the digest and counts only.
    expect(rows).toContain(`"person":"${(forgot.json.forgotten as { person: string }).person}"`);
    const audit = await waitFor('the audit line', async () =>
      runtime
        .output()
        .split('\n')
        .find((line) => line.includes('forgot person')),
    );
    expect(audit).toContain(
      `forgot person ${(forgot.json.forgotten as { person: string }).person} (3 events, 1 dead letters)`,
    );
    expect(audit).not.toMatch(/E1|ada|Lovelace/i);
    // No log line of the whole run spells her address: the failure was logged by digest.
    expect(runtime.output()).not.toContain(ADA.email);
    expect(runtime.output()).toContain(emailDigest(BOB.email));
  });

  it('answers 400 to a body that names nobody, and 401 without the operator token', async () => {
    expect((await api(runtime, 'POST', '/forget', {})).status).toBe(400);
    expect((await api(runtime, 'POST', '/forget', { employeeId: 'E1', email: ADA.email })).status).toBe(400);
    const anonymous = await fetch(`${runtime.url}/forget`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ employeeId: 'E2' }),
    });
    expect(anonymous.status).toBe(401);
    expect((await api(runtime, 'GET', '/events/evt-bob-1')).status).toBe(200);
  });
});
