import { describe, expect, it } from 'vitest';
import { normaliseEmail } from '../../functions/core/events/identity';
import { expectNothingRecorded, sentIds } from '../ingest/ingest-assertions';
import { bamboohrSigned, bearer, hireEvent, ingestFor, jsonRequest } from '../support/ingest-harness';

/*
 * Issue 14: Unicode look-alike emails. The decision (identity.ts, normaliseEmail): refused, never
 * normalised, and refused the same way from every source, because every source goes through that one
 * function. Normalising (NFKC, IDNA) would provision an address the HR record does not hold, and merge two
 * records that differ only by a look-alike into one account. What each look-alike gets:
 *
 *   Cyrillic а in the local part     refused: the part before @ must be ASCII (U+0430)
 *   fullwidth ＠ (or small ﹫)         refused by name: the @ must be ASCII
 *   fullwidth letters                refused like any non-ASCII letter
 *   a Unicode domain                 refused, naming its IDNA form for the sender to send instead
 *   mixed scripts in a domain label  refused in Unicode and in IDNA (xn--) form alike: a homograph
 *   a single-script IDNA domain      accepted as sent, lower-cased (xn--bcher-kva.de, a Japanese domain)
 *
 * The first-level cases through POST /events and CSV are in test/ingest/trust-boundaries.test.ts and
 * test/e2e/runtime-trust-boundaries.test.ts; this file adds the look-alikes above and checks that each
 * one gets the very same answer through POST /events, a CSV batch and a BambooHR webhook.
 */

const LOOK_ALIKES: [string, string, RegExp][] = [
  [
    'Cyrillic а in the local part',
    '\u0430lice@example.com',
    /^the part before @ must be ASCII: U\+0430 is not/,
  ],
  ['fullwidth ＠', 'alice\uff20example.com', /^the @ must be ASCII: U\+FF20 only looks like it$/],
  ['small ﹫', 'alice\ufe6bexample.com', /^the @ must be ASCII: U\+FE6B only looks like it$/],
  [
    'fullwidth letters in the local part',
    '\uff41lice@example.com',
    /^the part before @ must be ASCII: U\+FF41/,
  ],
  [
    'a Cyrillic а in the domain (mixed scripts)',
    'alice@ex\u0430mple.com',
    /^the domain must be ASCII, and its IDNA form \(xn--exmple-4nf\.com\) is refused too: it mixes Latin and Cyrillic letters in one label \(xn--exmple-4nf\)/,
  ],
  [
    'the same domain in punycode',
    'alice@xn--exmple-4nf.com',
    /^the domain is refused: it mixes Latin and Cyrillic letters in one label \(xn--exmple-4nf\), so it reads as another domain$/,
  ],
  [
    'the same punycode in capitals',
    'Alice@XN--EXMPLE-4NF.COM',
    /^the domain is refused: it mixes Latin and Cyrillic letters in one label \(xn--exmple-4nf\)/,
  ],
  [
    'Greek ο in a domain label',
    'alice@g\u03bf\u03bfgle.com',
    /it mixes Latin and Greek letters in one label \(xn--ggle-/,
  ],
  [
    'a fullwidth letter in the domain',
    'alice@\uff45xample.com',
    /^the domain must be ASCII: .*IDNA form \(example\.com\)$/,
  ],
  ['a broken punycode label', 'alice@xn--zz.com', /^must be an email address$/],
];

describe('normaliseEmail: look-alikes', () => {
  it.each(LOOK_ALIKES)('%s → refused, with the same message every time', (_name, email, reason) => {
    const first = normaliseEmail(email);
    expect(first).toEqual({ ok: false, message: expect.stringMatching(reason) });
    expect(normaliseEmail(email)).toEqual(first);
  });

  it.each([
    ['an IDNA domain of one script', "O'Brien@XN--BCHER-KVA.DE", "o'brien@xn--bcher-kva.de"],
    ['a Japanese domain (Han and Hiragana: allowed together)', 'taro@xn--r8jz45g.jp', 'taro@xn--r8jz45g.jp'],
    [
      'a label wholly in Cyrillic (its ASCII form shows what it is)',
      'ivan@xn--80ak6aa92e.com',
      'ivan@xn--80ak6aa92e.com',
    ],
    ['plain ASCII', ' Alice@Example.COM ', 'alice@example.com'],
  ])('%s → accepted as %s', (_name, email, stored) => {
    expect(normaliseEmail(email)).toEqual({ ok: true, email: stored });
  });
});

/** A BambooHR delivery with one Updated entry for `email`, mapped without a directory lookup. */
const bambooDelivery = (email: string) =>
  JSON.stringify({
    employees: [
      {
        id: '5150',
        action: 'Updated',
        timestamp: '2026-11-29T08:59:00+00:00',
        changedFields: ['Job Title'],
        fields: { 'Employee #': 'E5150', 'Work Email': email, 'Job Title': 'Engineer', Status: 'Active' },
      },
    ],
  });

const csvCell = (value: string) => `"${value.replaceAll('"', '""')}"`;

describe('one look-alike, one answer, from every source', () => {
  it.each(LOOK_ALIKES)(
    '%s: POST /events, CSV /batch and BambooHR refuse it alike, recording nothing',
    async (_name, email) => {
      const rule = normaliseEmail(email);
      if (rule.ok) throw new Error('expected a refusal');

      const events = ingestFor();
      const viaEvents = await events.call(jsonRequest('/events', hireEvent('la-1', email)));
      expect(viaEvents.status).toBe(400);
      expect(viaEvents.json.issues).toEqual([{ path: 'employee.email', message: rule.message }]);
      await expectNothingRecorded(events);

      const batch = ingestFor();
      const csv = `id,type,employee_id,email\nla-2,hire,E-LA2,${csvCell(email)}\n`;
      const viaCsv = await batch.call({
        method: 'POST',
        path: '/batch',
        headers: { ...bearer(), 'content-type': 'text/csv' },
        body: Buffer.from(csv),
      });
      expect(viaCsv.status).toBe(202);
      expect(viaCsv.json.rejected).toEqual([{ line: 2, error: `email: ${rule.message}` }]);
      expect(sentIds(batch.queue)).toEqual([]);

      const bamboo = ingestFor();
      const body = bambooDelivery(email);
      const viaBamboo = await bamboo.call(jsonRequest('/webhooks/bamboohr', body, bamboohrSigned(body)));
      expect(viaBamboo.status).toBe(202);
      expect(viaBamboo.json.skipped).toEqual([
        // BambooHR's reason names the event first ("the event is invalid: "), then the same field and rule.
        { employeeId: '5150', reason: expect.stringContaining(`employee.email: ${rule.message}`) },
      ]);
      expect((viaBamboo.json.skipped as { reason: string }[])[0]?.reason.endsWith(rule.message)).toBe(true);
      await expectNothingRecorded(bamboo);
    },
  );
});
