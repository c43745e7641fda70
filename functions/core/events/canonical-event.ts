import * as z from 'zod';
import { normaliseEmail } from './identity';
import { unsafeCharacterIn } from './safe-text';
import { issuesOf, type ValidationIssue } from './validation-issues';

export const EVENT_TYPES = ['hire', 'role_change', 'offboard'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Refuses controls, bidi and invisible characters in every text field (safe-text.ts), naming the one found. */
const safeString = z.string().check((ctx) => {
  const unsafe = unsafeCharacterIn(ctx.value);
  if (unsafe !== undefined) ctx.issues.push({ code: 'custom', message: unsafe, input: ctx.value });
});
// Unicode NFC so that the same name typed on two systems compares equal.
const text = safeString
  .transform((s) => s.normalize('NFC').trim())
  .pipe(z.string().min(1, { error: 'must not be empty' }));
// Blank optional fields are dropped: an HR export's empty cell means "not given".
const optionalText = safeString.transform((s) => s.normalize('NFC').trim() || undefined).optional();
// The one email rule of every source (events, CSV, NDJSON, BambooHR): identity.ts.
const email = z.string().transform((raw, ctx) => {
  const checked = normaliseEmail(raw);
  if (checked.ok) return checked.email;
  ctx.issues.push({ code: 'custom', message: checked.message, input: raw });
  return z.NEVER;
});
const roleList = z.array(text).transform((roles) => [...new Set(roles)]);

/** Drops keys whose value is undefined, so records hold only what was given (and store as such). */
function withoutUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export const employeeSchema = z
  .strictObject({
    id: text.pipe(z.string().max(128, { error: 'must be at most 128 characters' })),
    email,
    name: optionalText,
    department: optionalText,
    title: optionalText,
    location: optionalText,
    employmentType: optionalText,
    managerEmail: email.optional(),
    attributes: z.record(safeString, z.union([safeString, z.number(), z.boolean(), z.null()])).optional(),
  })
  .transform(withoutUndefined);

export const resourceRolesSchema = z.array(z.strictObject({ resourceType: text, roles: roleList }));

// One UTC form so that times compare as strings (DynamoDB conditions, SQL) as they do as times.
const dateTimeWithZone = z
  .string()
  .pipe(
    z.iso.datetime({
      offset: true,
      error: 'must be an ISO-8601 date-time with a zone, e.g. 2026-11-29T09:00:00Z',
    }),
  )
  .transform((s) => new Date(s).toISOString());

export const canonicalEventSchema = z
  .strictObject({
    id: text.pipe(
      z
        .string()
        .max(128, { error: 'must be at most 128 characters' })
        .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' }),
    ),
    type: z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` }),
    occurredAt: dateTimeWithZone,
    /** When the event takes effect (a start date, a last day); later than now: it waits as `scheduled`. */
    effectiveAt: dateTimeWithZone.optional(),
    employee: employeeSchema,
    roles: roleList.optional(),
    resourceRoles: resourceRolesSchema.optional(),
  })
  .transform(withoutUndefined);

/** An HR lifecycle event after validation and normalisation: the one shape every source is turned into. */
export type CanonicalEvent = z.output<typeof canonicalEventSchema>;
export type Employee = CanonicalEvent['employee'];
export type ResourceRoles = NonNullable<CanonicalEvent['resourceRoles']>;

export type ParseResult = { ok: true; event: CanonicalEvent } | { ok: false; issues: ValidationIssue[] };

/** Validates and normalises one event: trimmed, NFC, lower-cased email, UTC timestamp, de-duplicated roles. */
export function parseCanonicalEvent(input: unknown): ParseResult {
  const result = canonicalEventSchema.safeParse(input, { reportInput: true });
  return result.success ? { ok: true, event: result.data } : { ok: false, issues: issuesOf(result.error) };
}

/**
 * When an event takes effect, which orders a person's events (then acceptance): its `effectiveAt`, but never
 * before it was issued (`occurredAt`). A termination entered late with last week's date takes effect now,
 * not last week, so a role change applied this morning cannot supersede it and leave a leaver's access on.
 */
export function effectiveTimeOf(event: Pick<CanonicalEvent, 'occurredAt' | 'effectiveAt'>): string {
  return event.effectiveAt !== undefined && event.effectiveAt > event.occurredAt
    ? event.effectiveAt
    : event.occurredAt;
}
