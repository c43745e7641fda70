import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox';
import { type FakeBambooHr, startFakeBambooHr } from '../support/fake-bamboohr';
import { bamboohrSigned } from '../support/ingest-harness';
import {
  api,
  newDataDir,
  type RuntimeProcess,
  removeDataDir,
  startRuntimeProcess,
  waitFor,
} from '../support/runtime-process';

/*
 * The proof through `npm start`, over real HTTP: BambooHR termination and hire dates become effective
 * dates in BAMBOOHR_TIME_ZONE. A future termination date schedules the offboard (GET /events/{id} shows its
 * dueAt); the date removed cancels it and nobody is deactivated; a date moved cancels the old offboard and
 * schedules the new one. A Created employee is looked up in (fake) BambooHR and hired from the hire date.
 */

const BAMBOOHR_WEBHOOK_KEY = 'e2e-bamboohr-webhook-key-0123456789';
const BAMBOOHR_API_KEY = 'e2e-bamboohr-api-key';
const COMPANY = 'acme';
const TIME_ZONE = 'America/New_York';
const DAY_MS = 86_400_000;

let sandbox: Sandbox;
let bamboo: FakeBambooHr;
let runtime: RuntimeProcess;

/** A calendar day `days` from now (UTC), as BambooHR writes dates. */
const dayFromNow = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
/** 00:00 of the day in New York is 04:00 (EDT) or 05:00 (EST) UTC. */
const newYorkMidnight = (date: string) => new RegExp(`^${date}T0[45]:00:00\\.000Z$`);

beforeAll(async () => {
  sandbox = await startSandbox();
  bamboo = await startFakeBambooHr({
    apiKey: BAMBOOHR_API_KEY,
    companyDomain: COMPANY,
    employees: {
      '5001': {
        employeeNumber: 'E5001',
        workEmail: 'starter@example.com',
        firstName: 'New',
        lastName: 'Starter',
        status: 'Active',
        hireDate: dayFromNow(21),
      },
    },
  });
  runtime = await startRuntimeProcess({
    TFY_BASE_URL: sandbox.url,
    TFY_API_KEY: sandbox.apiKey,
    BAMBOOHR_WEBHOOK_KEY,
    BAMBOOHR_API_KEY,
    BAMBOOHR_COMPANY_DOMAIN: COMPANY,
    BAMBOOHR_BASE_URL: bamboo.url,
    BAMBOOHR_TIME_ZONE: TIME_ZONE,
  });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  if (runtime) removeDataDir(runtime.dataDir);
  await sandbox?.close();
  await bamboo?.close();
});

type Answer = {
  events: { id: string; status: string; dueAt?: string }[];
  cancelled: string[];
  skipped: { employeeId: string; reason: string }[];
};

/** POSTs a delivery signed as BambooHR signs it, and answers its 202 body. */
async function deliver(...employees: Record<string, unknown>[]): Promise<Answer> {
  const body = JSON.stringify({ employees });
  const response = await fetch(`${runtime.url}/webhooks/bamboohr`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bamboohrSigned(body, BAMBOOHR_WEBHOOK_KEY) },
    body,
  });
  expect(response.status, await response.clone().text()).toBe(202);
  return (await response.json()) as Answer;
}

const termination = (bambooId: string, employeeId: string, email: string, date: string) => ({
  id: bambooId,
  action: 'Updated',
  timestamp: minutesAgo(1),
  changedFields: ['Termination Date'],
  fields: { 'Employee #': employeeId, 'Work Email': email, Status: 'Active', 'Termination Date': date },
});

const eventOf = async (id: string) => (await api(runtime, 'GET', `/events/${id}`)).json;
const deactivations = (email: string) =>
  sandbox.calls().filter((c) => c.path.endsWith('/deactivate') && JSON.stringify(c).includes(email));

describe('BambooHR dates through npm start', () => {
  it('a future termination date schedules the offboard; removing the date cancels it, and nobody is deactivated', async () => {
    sandbox.seedUser({ email: 'leaver@example.com', roles: ['tenant-member'] });
    sandbox.seedUser({ email: 'gone@example.com', roles: ['tenant-member'] });
    const date = dayFromNow(30);

    const set = await deliver(termination('4101', 'E4101', 'leaver@example.com', date));
    expect(set.skipped).toEqual([]);
    const [scheduled] = set.events;
    expect(scheduled?.status).toBe('scheduled');
    expect(scheduled?.dueAt).toMatch(newYorkMidnight(date));
    expect(await eventOf(scheduled?.id ?? '')).toMatchObject({
      status: 'scheduled',
      type: 'offboard',
      dueAt: scheduled?.dueAt,
      effectiveAt: scheduled?.dueAt,
      source: 'bamboohr',
    });

    const removed = await deliver(termination('4101', 'E4101', 'leaver@example.com', ''));
    expect(removed).toEqual({ events: [], cancelled: [scheduled?.id], skipped: [] });
    expect(await eventOf(scheduled?.id ?? '')).toMatchObject({
      status: 'cancelled',
      note: 'cancelled by BambooHR (termination date removed)',
    });

    // The pipeline runs meanwhile: a termination dated yesterday deactivates its leaver now. Once it has,
    // the one whose date was removed is still active, never deactivated.
    const past = await deliver(termination('4102', 'E4102', 'gone@example.com', dayFromNow(-1)));
    await waitFor('the past termination to succeed', async () =>
      (await eventOf(past.events[0]?.id ?? '')).status === 'succeeded' ? true : undefined,
    );
    expect(sandbox.users().find((u) => u.email === 'gone@example.com')?.active).toBe(false);
    expect(sandbox.users().find((u) => u.email === 'leaver@example.com')?.active).toBe(true);
    expect(deactivations('gone@example.com')).toHaveLength(1);
    expect(deactivations('leaver@example.com')).toEqual([]);
  }, 60_000);

  it('a termination date moved: the old offboard is cancelled and the new one scheduled', async () => {
    const first = await deliver(termination('4201', 'E4201', 'mover@example.com', dayFromNow(30)));
    const oldId = first.events[0]?.id ?? '';
    expect(first.events[0]?.status).toBe('scheduled');

    const later = dayFromNow(60);
    const moved = await deliver(termination('4201', 'E4201', 'mover@example.com', later));
    const [next] = moved.events;
    expect(moved.cancelled).toEqual([oldId]);
    expect(next?.id).not.toBe(oldId);
    expect(next?.status).toBe('scheduled');
    expect(next?.dueAt).toMatch(newYorkMidnight(later));

    expect(await eventOf(oldId)).toMatchObject({
      status: 'cancelled',
      note: `cancelled by BambooHR (termination date changed to ${later})`,
    });
    expect(await eventOf(next?.id ?? '')).toMatchObject({ status: 'scheduled', dueAt: next?.dueAt });
    const scheduledList = await api(runtime, 'GET', '/events?status=scheduled&limit=100');
    const listed = (scheduledList.json.events as { id: string }[]).map((e) => e.id);
    expect(listed).toContain(next?.id);
    expect(listed).not.toContain(oldId);
  }, 60_000);

  it('a Created employee is looked up in BambooHR and hired from 00:00 of the hire date', async () => {
    const answer = await deliver({
      id: '5001',
      action: 'Created',
      timestamp: minutesAgo(1),
      changedFields: [],
      fields: {},
    });
    expect(answer.skipped).toEqual([]);
    const [hire] = answer.events;
    expect(hire?.status).toBe('scheduled');
    expect(hire?.dueAt).toMatch(newYorkMidnight(dayFromNow(21)));
    expect(await eventOf(hire?.id ?? '')).toMatchObject({
      type: 'hire',
      status: 'scheduled',
      employee: { id: 'E5001', email: 'starter@example.com' },
    });
    expect(bamboo.requests().map((r) => r.query.fields)).toEqual([expect.stringContaining('hireDate')]);
    expect(sandbox.users().some((u) => u.email === 'starter@example.com')).toBe(false);
  }, 60_000);
});

describe('BAMBOOHR_TIME_ZONE', () => {
  it('a zone Intl does not know stops npm start at once, naming the variable and the value', async () => {
    const dataDir = newDataDir();
    try {
      const failure = await startRuntimeProcess({ BAMBOOHR_TIME_ZONE: 'Europe/Berln' }, dataDir).then(
        async (unexpected) => {
          await unexpected.stop();
          return 'it started';
        },
        (error: Error) => error.message,
      );
      expect(failure).toMatch(/BAMBOOHR_TIME_ZONE: must be an IANA time zone name.*"Europe\/Berln"/);
    } finally {
      removeDataDir(dataDir);
    }
  }, 60_000);
});
