import * as z from 'zod';

/*
 * BambooHR dates (hire, termination) are calendar days without a time or zone: `2026-12-31`. The adapter
 * reads a day as its first instant in the company's zone (BAMBOOHR_TIME_ZONE). Written by hand with Intl
 * rather than with a date library: it is one function, and Node's Intl carries the IANA zone data already.
 */

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// Node prints `GMT+05:30`, `GMT-04:56:02` (old local mean times) or plain `GMT` for UTC itself.
const LONG_OFFSET = /^GMT(?:([+-])(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Intl's formatter of the zone's UTC offset; throws a RangeError for a zone Intl does not know. */
function offsetFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Whether Intl knows the zone (`Europe/Berlin`, `UTC`); a typo such as `Europe/Berln` is not. */
export function isKnownTimeZone(timeZone: string): boolean {
  if (timeZone.trim() === '') return false;
  try {
    offsetFormatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at an instant, in milliseconds (east positive). */
function offsetAtMs(instantMs: number, timeZone: string): number {
  const name = offsetFormatter(timeZone)
    .formatToParts(instantMs)
    .find((part) => part.type === 'timeZoneName')?.value;
  const match = LONG_OFFSET.exec(name ?? '');
  if (!match) throw new Error(`unexpected UTC offset ${JSON.stringify(name)} for ${timeZone}`);
  const [, sign, hours = '0', minutes = '0', seconds = '0'] = match;
  const ms = (Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds)) * 1000;
  return sign === '-' ? -ms : ms;
}

/** The UTC instant of `YYYY-MM-DD` 00:00 as if the zone were UTC, or undefined for a day the calendar lacks. */
function utcMidnightMs(date: string): number | undefined {
  const match = DATE.exec(date);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const at = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0 to 99 as 1900 to 1999.
  at.setUTCFullYear(year, month - 1, day);
  const valid = at.getUTCFullYear() === year && at.getUTCMonth() === month - 1 && at.getUTCDate() === day;
  return valid && year >= 1 ? at.getTime() : undefined;
}

/** Whether the text is a day of the calendar as BambooHR writes dates: `YYYY-MM-DD`. */
export function isCalendarDate(text: string): boolean {
  return utcMidnightMs(text) !== undefined;
}

/**
 * The first instant of the calendar day `date` (YYYY-MM-DD) in `timeZone`, as an ISO-8601 UTC date-time:
 * `startOfDayIn('2026-03-08', 'America/New_York')` is `2026-03-08T05:00:00.000Z`. DST-correct: the offset is
 * the zone's at that instant, not today's. Where midnight occurs twice (clocks set back at midnight) it is the
 * first; where it never occurs (clocks set forward at midnight) it is the moment the clocks jumped, the day's
 * first instant. Undefined when `date` is not a calendar date; throws for a zone Intl does not know.
 */
export function startOfDayIn(date: string, timeZone: string): string | undefined {
  const wall = utcMidnightMs(date);
  if (wall === undefined) return undefined;
  // The offsets a day either side cover every zone (UTC-12 to UTC+14) and any one transition near the day.
  const before = offsetAtMs(wall - DAY_MS, timeZone);
  const after = offsetAtMs(wall + DAY_MS, timeZone);
  const candidates = [...new Set([wall - before, wall - after])].sort((a, b) => a - b);
  // A candidate is midnight in the zone when the zone's offset at that instant is the one it assumed.
  const midnight = candidates.find((instant) => offsetAtMs(instant, timeZone) === wall - instant);
  return new Date(midnight ?? wall - before).toISOString();
}

/** An IANA zone name as configuration holds it (BAMBOOHR_TIME_ZONE, the `bamboohrTimeZone` context). */
export const ianaTimeZone = z
  .string()
  .trim()
  .refine(isKnownTimeZone, {
    error: (issue) =>
      `must be an IANA time zone name such as UTC, Europe/Berlin or America/New_York; ` +
      `${JSON.stringify(issue.input)} is not one this Node.js knows`,
  });
