import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ianaTimeZone,
  isCalendarDate,
  isKnownTimeZone,
  startOfDayIn,
} from '../../../functions/core/ingest/bamboohr/zoned-date';

/** The wall clock in a zone at an instant, `YYYY-MM-DD HH:mm`, read back through Intl. */
function wallClock(iso: string, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(iso))
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

describe('startOfDayIn', () => {
  it('is 00:00 of the date in UTC and in a zone without DST', () => {
    expect(startOfDayIn('2026-12-31', 'UTC')).toBe('2026-12-31T00:00:00.000Z');
    // +05:30: the day starts the evening before in UTC.
    expect(startOfDayIn('2026-06-01', 'Asia/Kolkata')).toBe('2026-05-31T18:30:00.000Z');
    expect(startOfDayIn('2026-01-01', 'Pacific/Kiritimati')).toBe('2025-12-31T10:00:00.000Z');
    expect(startOfDayIn('2026-01-01', 'Pacific/Pago_Pago')).toBe('2026-01-01T11:00:00.000Z');
  });

  it("takes the offset of that day, not today's, around New York's DST changes (March and November)", () => {
    // DST starts 2026-03-08 at 02:00: midnight of the 8th is still EST (-05:00), of the 9th EDT (-04:00).
    expect(startOfDayIn('2026-03-07', 'America/New_York')).toBe('2026-03-07T05:00:00.000Z');
    expect(startOfDayIn('2026-03-08', 'America/New_York')).toBe('2026-03-08T05:00:00.000Z');
    expect(startOfDayIn('2026-03-09', 'America/New_York')).toBe('2026-03-09T04:00:00.000Z');
    // DST ends 2026-11-01 at 02:00: midnight of the 1st is still EDT, of the 2nd EST.
    expect(startOfDayIn('2026-11-01', 'America/New_York')).toBe('2026-11-01T04:00:00.000Z');
    expect(startOfDayIn('2026-11-02', 'America/New_York')).toBe('2026-11-02T05:00:00.000Z');
    expect(wallClock('2026-03-09T04:00:00.000Z', 'America/New_York')).toBe('2026-03-09 00:00');
    expect(wallClock('2026-11-02T05:00:00.000Z', 'America/New_York')).toBe('2026-11-02 00:00');
  });

  it('where the clocks jump over midnight, is the moment they jumped: the first instant of the day', () => {
    // Chile moves to -03:00 at 00:00 on 2026-09-06, so that day has no 00:00 and begins at 01:00.
    const start = startOfDayIn('2026-09-06', 'America/Santiago') ?? '';
    expect(start).toBe('2026-09-06T04:00:00.000Z');
    expect(wallClock(start, 'America/Santiago')).toBe('2026-09-06 01:00');
    expect(wallClock(new Date(Date.parse(start) - 1).toISOString(), 'America/Santiago')).toBe(
      '2026-09-05 23:59',
    );
  });

  it('where midnight happens twice (clocks set back at 01:00), is the first of the two', () => {
    // Cuba leaves DST at 01:00 on 2026-11-01: 00:00 to 00:59 happen at -04:00, then again at -05:00.
    expect(startOfDayIn('2026-11-01', 'America/Havana')).toBe('2026-11-01T04:00:00.000Z');
    expect(wallClock('2026-11-01T05:00:00.000Z', 'America/Havana')).toBe('2026-11-01 00:00');
  });

  it('for a day a zone skipped altogether, is the moment it was skipped: the next day begins', () => {
    // Samoa crossed the date line: 2011-12-29 24:00 was followed by 2011-12-31 00:00.
    expect(startOfDayIn('2011-12-30', 'Pacific/Apia')).toBe(startOfDayIn('2011-12-31', 'Pacific/Apia'));
    expect(startOfDayIn('2011-12-31', 'Pacific/Apia')).toBe('2011-12-30T10:00:00.000Z');
  });

  it('answers undefined for text that is not a calendar date', () => {
    for (const text of [
      '2026-02-30',
      '2026-13-01',
      '2026-00-10',
      '31/12/2026',
      '2026-1-5',
      '',
      '2026-12-31T00:00',
    ]) {
      expect(startOfDayIn(text, 'UTC'), text).toBeUndefined();
      expect(isCalendarDate(text), text).toBe(false);
    }
    expect(isCalendarDate('2028-02-29')).toBe(true);
    expect(isCalendarDate('0050-01-01')).toBe(true);
    expect(startOfDayIn('0050-01-01', 'UTC')).toBe('0050-01-01T00:00:00.000Z');
  });

  it('throws for a zone Intl does not know', () => {
    expect(() => startOfDayIn('2026-12-31', 'Europe/Berln')).toThrow(RangeError);
  });

  const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
  const SEED = Number(process.env.PROPERTY_SEED ?? Date.now() % 2 ** 31);
  const ZONES = [
    'UTC',
    'America/New_York',
    'America/Santiago',
    'America/Havana',
    'America/St_Johns',
    'Europe/London',
    'Europe/Berlin',
    'Asia/Kolkata',
    'Asia/Kathmandu',
    'Australia/Lord_Howe',
    'Pacific/Chatham',
    'Pacific/Apia',
  ];

  it('property: the instant is on the date in the zone, and one millisecond earlier is the day before', () => {
    // The seed is printed so that a failing run can be replayed: PROPERTY_SEED=<seed> npx vitest run <this file>
    console.info(`zoned-date property seed: ${SEED} (PROPERTY_SEED=${SEED} replays it)`);
    const day = fc
      .date({
        min: new Date('1970-01-02T00:00:00Z'),
        max: new Date('2100-12-30T00:00:00Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString().slice(0, 10));
    fc.assert(
      fc.property(day, fc.constantFrom(...ZONES), (date, zone) => {
        fc.pre(!(zone === 'Pacific/Apia' && date === '2011-12-30'));
        const start = startOfDayIn(date, zone);
        expect(start).toBeDefined();
        expect(wallClock(start ?? '', zone).slice(0, 10)).toBe(date);
        const before = new Date(Date.parse(start ?? '') - 1).toISOString();
        expect(wallClock(before, zone).slice(0, 10) < date).toBe(true);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  });
});

describe('the time zone setting', () => {
  it('accepts IANA names Intl knows, trimmed, and refuses a typo naming it', () => {
    expect(isKnownTimeZone('Europe/Berlin')).toBe(true);
    expect(isKnownTimeZone('UTC')).toBe(true);
    expect(isKnownTimeZone('')).toBe(false);
    expect(ianaTimeZone.parse(' Asia/Kolkata ')).toBe('Asia/Kolkata');
    const result = ianaTimeZone.safeParse('Europe/Berln');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/IANA time zone name.*"Europe\/Berln"/);
  });
});
