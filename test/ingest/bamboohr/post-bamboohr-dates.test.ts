import { describe, expect, it } from 'vitest';
import { createMemoryStateStore } from '../../../functions/core/adapters/memory';
import type { IngestDeps } from '../../../functions/core/ingest/ingest-deps';
import { compilePolicy } from '../../../functions/core/policy/policy';
import { resolvePolicy } from '../../../functions/core/policy/policy-file';
import { loadRoleMapping } from '../../../functions/core/roles/role-mapping';
import { scheduleOperations } from '../../../functions/core/schedule/cancel-event';
import { bamboohrSigned, bearer, ingestFor, jsonRequest } from '../../support/ingest-harness';
import { expectNoSecretsInResponses, sentIds } from '../ingest-assertions';

/*
 * POST /webhooks/bamboohr with dates: a future termination is scheduled; a date removed cancels the pending
 * offboard it scheduled, a date moved replaces it; a moved start replaces the pending hire. The 202 answer
 * names what it cancelled.
 */

expectNoSecretsInResponses();

const DAY_MS = 86_400_000;
const dayFromNow = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

/** An ingest app over a whole memory state store, so that it can cancel (DELETE /events/{id} and BambooHR). */
function ingestWithSchedule(overrides: Partial<IngestDeps> = {}) {
  const state = createMemoryStateStore();
  return ingestFor({ store: state.events, schedule: scheduleOperations({ store: state }), ...overrides });
}

const entry = (
  changedFields: string[],
  fields: Record<string, string>,
  timestamp: string,
  id = '4021',
): Record<string, unknown> => ({
  id,
  action: 'Updated',
  timestamp,
  changedFields,
  fields: { 'Employee #': 'E1001', 'Work Email': 'ada.lovelace@example.com', ...fields },
});
const termination = (date: string, timestamp: string) =>
  entry(['Termination Date'], { 'Termination Date': date }, timestamp);

type Answer = {
  events: { id: string; status: string; dueAt?: string; duplicate?: true }[];
  cancelled: string[];
  skipped: { employeeId: string; reason: string }[];
};

async function deliver(ingest: ReturnType<typeof ingestFor>, ...employees: Record<string, unknown>[]) {
  const body = JSON.stringify({ employees });
  const response = await ingest.call(jsonRequest('/webhooks/bamboohr', body, bamboohrSigned(body)));
  expect(response.status).toBe(202);
  return response.json as unknown as Answer;
}

const statusOf = async (ingest: ReturnType<typeof ingestFor>, id: string) =>
  (await ingest.deps.store.get(id))?.status;

describe('POST /webhooks/bamboohr: termination dates', () => {
  it('a future termination date schedules the offboard for 00:00 of the date; nothing is queued', async () => {
    const ingest = ingestWithSchedule({ bamboohr: { timeZone: 'America/New_York' } });
    const date = dayFromNow(30);
    const answer = await deliver(ingest, termination(date, minutesAgo(2)));

    expect(answer.cancelled).toEqual([]);
    expect(answer.skipped).toEqual([]);
    const [event] = answer.events;
    expect(event).toEqual({
      id: expect.stringMatching(/^bamboohr-4021-updated-/),
      status: 'scheduled',
      dueAt: expect.any(String),
    });
    // 00:00 in New York is 04:00 or 05:00 UTC, by the DST of that day.
    expect(event?.dueAt).toMatch(new RegExp(`^${date}T0[45]:00:00\\.000Z$`));
    expect(ingest.queue.sent).toEqual([]);
  });

  it('a termination date already past offboards now', async () => {
    const ingest = ingestWithSchedule();
    const answer = await deliver(ingest, termination(dayFromNow(-3), minutesAgo(2)));
    expect(answer.events).toEqual([{ id: expect.any(String), status: 'queued' }]);
    expect(sentIds(ingest.queue)).toEqual([answer.events[0]?.id]);
  });

  it('the date removed: the pending offboard is cancelled with the reason, and nothing is queued', async () => {
    const ingest = ingestWithSchedule();
    const scheduled = await deliver(ingest, termination(dayFromNow(30), minutesAgo(5)));
    const offboardId = scheduled.events[0]?.id ?? '';

    const removed = await deliver(ingest, termination('', minutesAgo(1)));
    expect(removed).toEqual({ events: [], cancelled: [offboardId], skipped: [] });
    expect(await ingest.deps.store.get(offboardId)).toMatchObject({
      status: 'cancelled',
      note: 'cancelled by BambooHR (termination date removed)',
    });
    expect(ingest.queue.sent).toEqual([]);

    // Removed again (a redelivery): nothing left to cancel.
    expect((await deliver(ingest, termination('', minutesAgo(1)))).cancelled).toEqual([]);
  });

  it('the date moved: the old offboard is cancelled and the new one scheduled; redeliveries change nothing', async () => {
    const ingest = ingestWithSchedule();
    const first = termination(dayFromNow(30), minutesAgo(5));
    const moved = termination(dayFromNow(45), minutesAgo(1));
    const oldId = (await deliver(ingest, first)).events[0]?.id ?? '';

    const answer = await deliver(ingest, moved);
    const newId = answer.events[0]?.id ?? '';
    expect(answer.cancelled).toEqual([oldId]);
    expect(answer.events).toEqual([
      { id: newId, status: 'scheduled', dueAt: `${dayFromNow(45)}T00:00:00.000Z` },
    ]);
    expect(await statusOf(ingest, oldId)).toBe('cancelled');

    // The same delivery again keeps its own event; the older one again does not undo the newer.
    const again = await deliver(ingest, moved);
    expect(again).toEqual({
      events: [expect.objectContaining({ id: newId, status: 'scheduled', duplicate: true })],
      cancelled: [],
      skipped: [],
    });
    const older = await deliver(ingest, first);
    expect(older.cancelled).toEqual([]);
    expect(await statusOf(ingest, newId)).toBe('scheduled');
    expect(await statusOf(ingest, oldId)).toBe('cancelled');
  });

  it("cancels only BambooHR's pending offboards of that person, never another source's", async () => {
    const ingest = ingestWithSchedule();
    const effectiveAt = `${dayFromNow(20)}T09:00:00Z`;
    const offboard = (id: string, employeeId: string, email: string) => ({
      id,
      type: 'offboard',
      occurredAt: minutesAgo(10),
      effectiveAt,
      employee: { id: employeeId, email },
    });
    const posted = await ingest.call(
      jsonRequest(
        '/events',
        {
          events: [
            offboard('hr-1', 'E1001', 'ada.lovelace@example.com'),
            offboard('hr-2', 'E2002', 'bo@example.com'),
          ],
        },
        bearer(),
      ),
    );
    expect(posted.status).toBe(202);
    const bamboo = (await deliver(ingest, termination(dayFromNow(30), minutesAgo(5)))).events[0]?.id ?? '';
    const otherPerson = await deliver(
      ingest,
      entry(
        ['Termination Date'],
        { 'Employee #': 'E3003', 'Termination Date': dayFromNow(30) },
        minutesAgo(5),
        '4030',
      ),
    );

    expect((await deliver(ingest, termination('', minutesAgo(1)))).cancelled).toEqual([bamboo]);
    expect(await statusOf(ingest, 'hr-1')).toBe('scheduled');
    expect(await statusOf(ingest, 'hr-2')).toBe('scheduled');
    expect(await statusOf(ingest, otherPerson.events[0]?.id ?? '')).toBe('scheduled');
  });

  it('does not cancel when the policy refuses the replacement: the person keeps an offboard scheduled', async () => {
    const ingest = ingestWithSchedule();
    const oldId = (await deliver(ingest, termination(dayFromNow(30), minutesAgo(5)))).events[0]?.id ?? '';
    ingest.deps.policy = compilePolicy(
      resolvePolicy(
        { content: { protectedAccounts: ['ada.lovelace@example.com'] }, name: 'policy.json' },
        loadRoleMapping({ default: ['tenant-member'] }),
      ),
    );
    const answer = await deliver(ingest, termination(dayFromNow(45), minutesAgo(1)));
    expect(answer.events).toEqual([]);
    expect(answer.cancelled).toEqual([]);
    expect(answer.skipped).toEqual([
      { employeeId: '4021', reason: expect.stringMatching(/protected account/) },
    ]);
    expect(await statusOf(ingest, oldId)).toBe('scheduled');
  });

  it('an app wired without cancelling reports a removal as skipped, so an operator cancels by hand', async () => {
    const ingest = ingestFor();
    const answer = await deliver(ingest, termination('', minutesAgo(1)));
    expect(answer).toEqual({
      events: [],
      cancelled: [],
      skipped: [
        {
          employeeId: '4021',
          reason: expect.stringMatching(/termination date removed.*cannot cancel scheduled events/),
        },
      ],
    });
  });
});

describe('POST /webhooks/bamboohr: hire dates', () => {
  it('a start moved: the pending hire is cancelled and a hire on the new date scheduled', async () => {
    const ingest = ingestWithSchedule({ bamboohr: { timeZone: 'Asia/Kolkata' } });
    const hire = (date: string, timestamp: string) =>
      entry(['Hire Date'], { Status: 'Active', 'Hire Date': date }, timestamp);
    const oldId = (await deliver(ingest, hire(dayFromNow(20), minutesAgo(5)))).events[0]?.id ?? '';
    expect(await statusOf(ingest, oldId)).toBe('scheduled');

    const answer = await deliver(ingest, hire(dayFromNow(27), minutesAgo(1)));
    expect(answer.cancelled).toEqual([oldId]);
    expect(answer.events).toEqual([
      {
        id: expect.any(String),
        status: 'scheduled',
        // 00:00 at +05:30 is 18:30 UTC the day before.
        dueAt: `${dayFromNow(26)}T18:30:00.000Z`,
      },
    ]);
    expect(await ingest.deps.store.get(oldId)).toMatchObject({
      status: 'cancelled',
      note: `cancelled by BambooHR (hire date changed to ${dayFromNow(27)})`,
    });
  });

  it('a termination date moved never cancels a pending hire, nor a hire date an offboard', async () => {
    const ingest = ingestWithSchedule();
    const hireId =
      (
        await deliver(
          ingest,
          entry(['Hire Date'], { Status: 'Active', 'Hire Date': dayFromNow(10) }, minutesAgo(9)),
        )
      ).events[0]?.id ?? '';
    const offboardId =
      (await deliver(ingest, termination(dayFromNow(30), minutesAgo(7)))).events[0]?.id ?? '';
    expect((await deliver(ingest, termination(dayFromNow(40), minutesAgo(5)))).cancelled).toEqual([
      offboardId,
    ]);
    expect(await statusOf(ingest, hireId)).toBe('scheduled');
  });
});
