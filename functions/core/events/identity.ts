import { createHash } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { mixedScriptProblem } from './mixed-script';
import { codePointOf, unsafeCharacterIn } from './safe-text';

/*
 * Who an event is about: the one email rule every source goes through, the person key that groups a
 * person's events (queue group, state key), and the email key of versions before people existed.
 */

/**
 * The key of the person an event is about: the queue group (SQS MessageGroupId) and the state key. It is
 * the HR employee id, stable when the email changes, so a person's events stay in one FIFO group across an
 * email change. A source without employee ids puts the email there (CSV rows without `employee_id`); such
 * a person is keyed by the email, and an email-keyed person never blocks the id-keyed one that later
 * arrives for the same address.
 * SQS allows 128 printable ASCII characters, so longer or non-ASCII keys are hashed.
 */
// Structural rather than the event's Employee type, which would make events/ import itself in a cycle.
export function personKeyOf(employee: { id: string; email: string }): string {
  const key =
    employee.id.toLowerCase() === employee.email ? emailPersonKey(employee.email) : `id:${employee.id}`;
  return /^[\x21-\x7e]{1,128}$/.test(key) ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/** The key of a person known only by an email. */
export const emailPersonKey = (email: string): string => `email:${email}`;

/** Whether `personKey` is the email-only person of `email`: the same human as any id-keyed holder of it. */
export const isEmailPersonOf = (personKey: string, email: string): boolean =>
  personKey === personKeyOf({ id: email, email });

/**
 * The key that orders one person's events (SQS MessageGroupId, state keys). It is the TrueFoundry
 * identity, the normalised email, because one TrueFoundry user is what events for a person converge;
 * an employee number can change on rehire while the email, and the account, stay.
 * SQS allows 128 printable ASCII characters, so longer or non-ASCII emails are hashed.
 * (The key of versions before people existed: their per-email marks are still read and forgotten by it.)
 */
export function employeeKeyOf(email: string): string {
  return /^[\x21-\x7e]{1,128}$/.test(email)
    ? email
    : `sha256:${createHash('sha256').update(email).digest('hex')}`;
}

/** RFC 5321's limits: a path of 256 octets holds an address of 254; the local part at most 64. */
export const MAX_EMAIL_LENGTH = 254;
export const MAX_LOCAL_PART_LENGTH = 64;

// RFC 5322 dot-atom: atext runs separated by single dots. Quoted local parts (`"a b"@x`) are refused:
// no HR system or TrueFoundry tenant needs them, and they carry spaces and escapes.
const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
// A host name label: letters, digits, hyphens inside; `xn--` labels are checked by domainToASCII.
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export type EmailCheck = { ok: true; email: string } | { ok: false; message: string };

/**
 * An email address as the edge accepts it, trimmed and lower-cased (NFC first, so the checks see what is
 * stored): a bare `local@domain`, ASCII throughout. The local part is ASCII because a letter from another
 * script can look exactly like a Latin one (Cyrillic `а` in `аda@example.com`) and would provision a second
 * account that reads as the first. An internationalised domain is accepted in its IDNA form (`xn--…`), which
 * shows what it is, and refused in Unicode with that form named: converting it silently would provision an
 * address the HR record does not hold, and the look-alike domain would read as the real one in every log.
 * No display names or angle brackets (`Ada <ada@example.com>`), no controls or invisible characters, at
 * most 254 characters and 64 before the `@`.
 *
 * Look-alikes are refused, never normalised (issue 14; test/security/lookalike-emails.test.ts): NFKC would
 * turn a fullwidth `＠` or `ｅ` into ASCII, but then the address provisioned is not the one HR holds, and
 * two HR records that differ only by it would become one account. So a fullwidth or small `@` is refused by
 * name, a non-ASCII local part is refused, a Unicode domain is refused with its IDNA form named, and an IDNA
 * domain (`xn--…`, sent as such or named back to the sender) is refused when a label mixes scripts
 * (mixed-script.ts: `xn--exmple-4nf.com` is `exаmple.com`). What is refused is refused the same way from
 * every source: POST /events, CSV and NDJSON batches and BambooHR all go through this one function.
 */
export function normaliseEmail(raw: string): EmailCheck {
  const unsafe = unsafeCharacterIn(raw, 'identifier');
  if (unsafe !== undefined) return fail(unsafe);
  const value = raw.normalize('NFC').trim().toLowerCase();
  if (value === '') return fail('must not be empty');
  const lookAlikeAt = /[\uff20\ufe6b]/u.exec(value);
  if (lookAlikeAt) {
    return fail(`the @ must be ASCII: ${codePointOf(lookAlikeAt[0])} only looks like it`);
  }
  if (/[<>]/.test(value)) {
    return fail('must be a bare address such as ada@example.com, without a display name or angle brackets');
  }
  if ([...value].length > MAX_EMAIL_LENGTH) {
    return fail(`must be at most ${MAX_EMAIL_LENGTH} characters (got ${[...value].length})`);
  }
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1 || /\s/.test(value)) return fail('must be an email address');
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > MAX_LOCAL_PART_LENGTH) {
    return fail(
      `the part before @ must be at most ${MAX_LOCAL_PART_LENGTH} characters (got ${[...local].length})`,
    );
  }
  const foreign = /[^\x20-\x7e]/u.exec(local);
  if (foreign) {
    return fail(
      `the part before @ must be ASCII: ${codePointOf(foreign[0])} is not (a letter from another script can look like a Latin one)`,
    );
  }
  if (local.includes('"')) return fail('quoted local parts ("…"@example.com) are not accepted');
  if (!LOCAL_PART.test(local)) return fail('must be an email address');
  if (/[^\x20-\x7e]/u.test(domain)) {
    const idna = domainToASCII(domain);
    const mixed = idna ? mixedScriptProblem(idna) : undefined;
    if (mixed) return fail(`the domain must be ASCII, and its IDNA form (${idna}) is refused too: ${mixed}`);
    return fail(
      `the domain must be ASCII: send an internationalised domain in its IDNA form${idna ? ` (${idna})` : ' (xn--…)'}`,
    );
  }
  if (!isHostName(domain)) return fail('must be an email address');
  const mixed = mixedScriptProblem(domain);
  if (mixed) return fail(`the domain is refused: ${mixed}`);
  return { ok: true, email: value };
}

function isHostName(domain: string): boolean {
  const labels = domain.split('.');
  return (
    labels.length >= 2 &&
    labels.every((label) => LABEL.test(label)) &&
    // A valid `xn--` label decodes; domainToASCII answers '' for one that does not.
    domainToASCII(domain) === domain
  );
}

const fail = (message: string): EmailCheck => ({ ok: false, message });
