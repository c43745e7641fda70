import { describe, expect, it } from 'vitest';
import type { BambooHrDirectory } from '../../../functions/core/ingest/bamboohr/directory';
import {
  type MapBambooHrWebhookOptions,
  mapBambooHrWebhook,
} from '../../../functions/core/ingest/bamboohr/webhook';

/*
 * BambooHR hire and termination dates → `effectiveAt` (00:00 of the date in BAMBOOHR_TIME_ZONE), and the
 * pending events a removed or moved date cancels. The route's side (cancelling, scheduling) is in
 * post-bamboohr-dates.test.ts.
 */

const receivedAt = '2026-11-28T16:41:00Z';
const timestamp = '2026-11-28T16:33:28+00:00';

type Entry = {
  id: string;
  action: string;
  timestamp?: string;
  changedFields?: string[];
  fields?: Record<string, string>;
};
const updated = (changedFields: string[], fields: Record<string, string>, id = '4021'): Entry => ({
  id,
  action: 'Updated',
  timestamp,
  changedFields,
  fields: { 'Employee #': 'E1001', 'Work Email': 'ada.lovelace@example.com', ...fields },
});
const map = (entries: Entry[], options: Partial<MapBambooHrWebhookOptions> = {}) =>
  mapBambooHrWebhook({ employees: entries }, { receivedAt, ...options });

function directoryOf(employees: Record<string, Record<string, string>>): BambooHrDirectory & {
  lookedUp: string[];
} {
  const lookedUp: string[] = [];
  return {
    lookedUp,
    async getEmployee(id) {
      lookedUp.push(id);
      return employees[id];
    },
  };
}

describe('termination dates', () => {
  it('offboard from 00:00 of the date in the configured zone, DST-correct', async () => {
    const at = async (date: string, timeZone?: string) => {
      const { events } = await map([updated(['Termination Date'], { 'Termination Date': date })], {
        ...(timeZone ? { timeZone } : {}),
      });
      expect(events.map((e) => e.type)).toEqual(['offboard']);
      return events[0]?.effectiveAt;
    };
    expect(await at('2026-12-31')).toBe('2026-12-31T00:00:00.000Z');
    expect(await at('2026-12-31', 'America/New_York')).toBe('2026-12-31T05:00:00.000Z');
    expect(await at('2027-03-14', 'America/New_York')).toBe('2027-03-14T05:00:00.000Z');
    expect(await at('2027-03-15', 'America/New_York')).toBe('2027-03-15T04:00:00.000Z');
    expect(await at('2027-06-01', 'Asia/Kolkata')).toBe('2027-05-31T18:30:00.000Z');
  });

  it('a date already past still offboards (it takes effect when issued), with the date as given', async () => {
    const { events } = await map([updated(['Termination Date'], { 'Termination Date': '2026-11-01' })]);
    expect(events).toEqual([
      expect.objectContaining({
        type: 'offboard',
        occurredAt: '2026-11-28T16:33:28.000Z',
        effectiveAt: '2026-11-01T00:00:00.000Z',
      }),
    ]);
  });

  it('a status Inactive or a Deleted employee offboards now, whatever the date says', async () => {
    const { events, cancellations } = await map([
      updated(['Status', 'Termination Date'], { Status: 'Inactive', 'Termination Date': '2027-01-31' }),
      updated(['Termination Date'], { Status: 'Inactive', 'Termination Date': '' }, '4022'),
    ]);
    expect(events.map((e) => [e.type, e.effectiveAt])).toEqual([
      ['offboard', undefined],
      ['offboard', undefined],
    ]);
    expect(cancellations).toEqual([]);
  });

  it('a removed date makes no event and cancels the pending offboard; so does a removal posted as null', async () => {
    const { events, skipped, cancellations } = await map(
      [
        updated(['Termination Date'], { 'Termination Date': '' }),
        // null reads as "not posted": the directory says there is no date any more.
        { ...updated(['Termination Date'], {}, '4023'), fields: { 'Work Email': 'grace@example.com' } },
      ],
      { directory: directoryOf({ '4023': { 'Employee #': 'E1002', 'Work Email': 'grace@example.com' } }) },
    );
    expect(events).toEqual([]);
    expect(skipped).toEqual([]);
    expect(cancellations).toEqual([
      {
        employeeId: '4021',
        personKey: 'id:E1001',
        type: 'offboard',
        issuedUpTo: '2026-11-28T16:33:28.000Z',
        by: 'BambooHR (termination date removed)',
      },
      expect.objectContaining({ employeeId: '4023', personKey: 'id:E1002', type: 'offboard' }),
    ]);
  });

  it('a changed date the webhook did not post is looked up, or skipped with what to configure', async () => {
    const entry = { ...updated(['Termination Date'], {}), fields: { 'Work Email': 'ada@example.com' } };
    const directory = directoryOf({ '4021': { 'Employee #': 'E1001', 'Termination Date': '2027-01-15' } });
    const found = await map([entry], { directory });
    expect(directory.lookedUp).toEqual(['4021']);
    expect(found.events.map((e) => [e.type, e.effectiveAt])).toEqual([
      ['offboard', '2027-01-15T00:00:00.000Z'],
    ]);

    const unknown = await map([entry]);
    expect(unknown.events).toEqual([]);
    expect(unknown.cancellations).toEqual([]);
    expect(unknown.skipped).toEqual([
      {
        employeeId: '4021',
        reason: expect.stringMatching(/"Termination Date" changed but the webhook did not post/),
      },
    ]);
  });

  it('a date that is not a calendar date is skipped, naming it, and cancels nothing', async () => {
    const { events, skipped, cancellations } = await map([
      updated(['Termination Date'], { 'Termination Date': '31/12/2026' }),
    ]);
    expect(events).toEqual([]);
    expect(cancellations).toEqual([]);
    expect(skipped).toEqual([
      {
        employeeId: '4021',
        reason: expect.stringMatching(/"Termination Date" is "31\/12\/2026", not a date/),
      },
    ]);
  });

  it('a date years ahead (a mistyped year) is skipped and cancels nothing: the pending offboard stays', async () => {
    const { events, skipped, cancellations } = await map([
      updated(['Termination Date'], { 'Termination Date': '2062-11-30' }),
    ]);
    expect(events).toEqual([]);
    expect(cancellations).toEqual([]);
    expect(skipped).toEqual([
      {
        employeeId: '4021',
        reason: expect.stringMatching(/^the date 2062-11-30 is more than 400 days ahead/),
      },
    ]);
  });

  it('a later entry of the same delivery moving the date leaves out the earlier pending offboard', async () => {
    const first = { ...updated(['Termination Date'], { 'Termination Date': '2027-01-31' }) };
    const second = {
      ...updated(['Termination Date'], { 'Termination Date': '2027-02-28' }),
      timestamp: '2026-11-28T16:35:00+00:00',
    };
    const { events, skipped, cancellations } = await map([first, second]);
    expect(events.map((e) => e.effectiveAt)).toEqual(['2027-02-28T00:00:00.000Z']);
    expect(skipped).toEqual([
      {
        employeeId: '4021',
        reason:
          'a later entry of this delivery cancels it: BambooHR (termination date changed to 2027-02-28)',
      },
    ]);
    expect(cancellations.map((c) => c.keep)).toHaveLength(2);

    // The other order: the older change does not undo the newer one.
    const reversed = await map([second, first]);
    expect(reversed.events.map((e) => e.effectiveAt)).toEqual([
      '2027-02-28T00:00:00.000Z',
      '2027-01-31T00:00:00.000Z',
    ]);
  });
});

describe('hire dates', () => {
  const alan = {
    'Employee #': 'E1003',
    'Work Email': 'alan.turing@example.com',
    Status: 'Active',
    'Hire Date': '2027-01-04',
  };

  it('a Created employee is hired from 00:00 of the hire date, read from the directory', async () => {
    const { events, cancellations } = await map([{ id: '4023', action: 'Created', fields: {} }], {
      directory: directoryOf({ '4023': alan }),
      timeZone: 'Asia/Kolkata',
    });
    expect(events).toEqual([
      expect.objectContaining({ type: 'hire', effectiveAt: '2027-01-03T18:30:00.000Z' }),
    ]);
    expect(cancellations).toEqual([]);
  });

  it('a rehire (status back to Active) takes effect on the hire date', async () => {
    const { events } = await map([updated(['Status'], { Status: 'Active', 'Hire Date': '2027-02-01' })], {
      timeZone: 'America/New_York',
    });
    expect(events.map((e) => [e.type, e.effectiveAt])).toEqual([['hire', '2027-02-01T05:00:00.000Z']]);
  });

  it('a start moved while Active: a hire on the new date, replacing the pending hire', async () => {
    const { events, cancellations } = await map([
      updated(['Hire Date'], { Status: 'Active', 'Hire Date': '2027-01-11' }),
    ]);
    expect(events.map((e) => [e.type, e.effectiveAt])).toEqual([['hire', '2027-01-11T00:00:00.000Z']]);
    expect(cancellations).toEqual([
      {
        employeeId: '4021',
        personKey: 'id:E1001',
        type: 'hire',
        issuedUpTo: '2026-11-28T16:33:28.000Z',
        keep: events[0]?.id,
        by: 'BambooHR (hire date changed to 2027-01-11)',
      },
    ]);
  });

  it("never hires on a hire-date change of someone who is not Active: a leaver's data correction", async () => {
    const inactive = await map([updated(['Hire Date'], { Status: 'Inactive', 'Hire Date': '2027-01-11' })]);
    expect(inactive.events.map((e) => e.type)).toEqual(['offboard']);

    const other = await map([updated(['Hire Date'], { Status: 'On Leave', 'Hire Date': '2027-01-11' })]);
    expect(other.events).toEqual([]);
    expect(other.skipped).toEqual([
      { employeeId: '4021', reason: expect.stringMatching(/"Status" is On Leave: only an Active employee/) },
    ]);
  });

  it('a hire-date change with the status unknown is looked up, or skipped saying what to configure', async () => {
    const entry = updated(['Hire Date'], { 'Hire Date': '2027-01-11' });
    const unknown = await map([entry]);
    expect(unknown.events).toEqual([]);
    expect(unknown.skipped).toEqual([
      { employeeId: '4021', reason: expect.stringMatching(/"Status" is unknown/) },
    ]);

    const leaver = directoryOf({ '4021': { 'Employee #': 'E1001', Status: 'Inactive' } });
    expect((await map([entry], { directory: leaver })).events.map((e) => e.type)).toEqual(['offboard']);
    const active = directoryOf({ '4021': { 'Employee #': 'E1001', Status: 'Active' } });
    expect((await map([entry], { directory: active })).events.map((e) => e.type)).toEqual(['hire']);
  });

  it('a removed hire date schedules nothing and cancels nothing, saying so', async () => {
    const { events, cancellations, skipped } = await map([
      updated(['Hire Date'], { Status: 'Active', 'Hire Date': '0000-00-00' }),
    ]);
    expect(events).toEqual([]);
    expect(cancellations).toEqual([]);
    expect(skipped).toEqual([{ employeeId: '4021', reason: expect.stringMatching(/hire date was removed/) }]);
  });

  it('a hire date that does not change leaves role changes as they were: now, no date', async () => {
    const { events } = await map([
      updated(['Job Title'], { Status: 'Active', 'Job Title': 'Lead', 'Hire Date': '2027-01-04' }),
    ]);
    expect(events.map((e) => [e.type, e.effectiveAt])).toEqual([['role_change', undefined]]);
  });
});

describe('the time zone option', () => {
  it('defaults to UTC and refuses a zone Intl does not know', async () => {
    await expect(map([], { timeZone: 'Europe/Berln' })).rejects.toThrow(/timeZone must be an IANA/);
  });
});
