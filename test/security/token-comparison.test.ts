import { beforeEach, describe, expect, it, vi } from 'vitest';

/*
 * Issue 14: the bearer token (ingest and operator routes) is compared in constant time. Timing is not
 * measured (too noisy to assert on a shared machine); the mechanism is: every check goes through
 * crypto.timingSafeEqual, over two digests of the same length, whatever the length of the token sent, so
 * neither its bytes nor its length shows in the time taken. The spy below makes these tests fail if the
 * comparison becomes `===`, a loop that stops at the first difference, or returns early on a length
 * mismatch (as it did before issue 14: `a.length === b.length && timingSafeEqual(a, b)`).
 */

const crypto = vi.hoisted(() => ({ timingSafeEqual: undefined as unknown as ReturnType<typeof vi.fn> }));

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  crypto.timingSafeEqual = vi.fn(actual.timingSafeEqual);
  return {
    ...actual,
    default: { ...actual, timingSafeEqual: crypto.timingSafeEqual },
    timingSafeEqual: crypto.timingSafeEqual,
  };
});

const { authenticate } = await import('../../functions/core/ingest/authenticate');
const { admit } = await import('../../functions/core/ingest/admission');
const { ingestRouteAccess } = await import('../../functions/core/ingest/ingest-app');
const { bearer, hireEvent, INGEST_TOKEN, ingestFor, jsonRequest } = await import('../support/ingest-harness');

const credentials = { ingestToken: INGEST_TOKEN };
const request = (authorization: string, method = 'POST', path = '/events') => ({
  method,
  path,
  query: {},
  headers: { authorization },
  body: Buffer.alloc(0),
});

/** The buffers each timingSafeEqual call compared. */
const comparisons = (): [Buffer, Buffer][] =>
  crypto.timingSafeEqual.mock.calls.map(([a, b]) => [
    Buffer.from(a as Uint8Array),
    Buffer.from(b as Uint8Array),
  ]);

beforeEach(() => {
  crypto.timingSafeEqual.mockClear();
});

const TOKENS: [string, string, boolean][] = [
  ['the right token', INGEST_TOKEN, true],
  ['a wrong token of the same length', `${INGEST_TOKEN.slice(0, -1)}X`, false],
  ['a prefix of the token (shorter)', INGEST_TOKEN.slice(0, 8), false],
  ['the token with a suffix (longer)', `${INGEST_TOKEN}0`, false],
  ['one character', 'x', false],
  ['10,000 characters', 'y'.repeat(10_000), false],
  ['the token in another case', INGEST_TOKEN.toUpperCase(), false],
];

describe('the bearer token check', () => {
  it.each(TOKENS)(
    '%s: one timingSafeEqual over equal-length digests, never the raw bytes',
    (_name, token, ok) => {
      const result = authenticate(request(`Bearer ${token}`), credentials, 'ingest');

      expect(result.ok).toBe(ok);
      const calls = comparisons();
      expect(calls).toHaveLength(1);
      const [given, expected] = calls[0]!;
      expect(given.length).toBe(expected.length);
      // At least 256 bits: a digest, not a truncation.
      expect(given.length).toBeGreaterThanOrEqual(32);
      expect(given.equals(Buffer.from(token))).toBe(false);
      expect(expected.equals(Buffer.from(INGEST_TOKEN))).toBe(false);
      expect(given.equals(expected)).toBe(ok);
    },
  );

  it('the configured side is the same digest whatever is sent: its length says nothing of the token sent', () => {
    for (const [, token] of TOKENS) authenticate(request(`Bearer ${token}`), credentials, 'ingest');
    const sides = comparisons();

    expect(sides).toHaveLength(TOKENS.length);
    expect(new Set(sides.map(([, expected]) => expected.toString('hex'))).size).toBe(1);
    expect(new Set(sides.map(([given]) => given.length)).size).toBe(1);
  });

  it('operator routes compare the same way', () => {
    const result = authenticate(request('Bearer short', 'GET', '/events'), credentials, 'operator');

    expect(result.ok).toBe(false);
    expect(comparisons()).toHaveLength(1);
  });

  it('the check before the body (admission) compares the same way, for any length', () => {
    const access = ingestRouteAccess('POST', '/batch');
    for (const token of ['short', `${INGEST_TOKEN}-and-more`, INGEST_TOKEN]) {
      admit(request(`Bearer ${token}`, 'POST', '/batch'), access, credentials);
    }

    const calls = comparisons();
    expect(calls).toHaveLength(3);
    for (const [given, expected] of calls) expect(given.length).toBe(expected.length);
  });

  it('through the ingest app: a token of another length is refused, after a full comparison', async () => {
    const ingest = ingestFor();
    const refused = await ingest.call(jsonRequest('/events', hireEvent('tc-1'), bearer('too-short')));
    const accepted = await ingest.call(jsonRequest('/events', hireEvent('tc-2'), bearer()));

    expect(refused.status).toBe(401);
    expect(refused.json).toEqual({ error: 'unauthorized', message: 'the bearer token is not valid' });
    expect(accepted.status).toBe(202);
    expect(comparisons()).toHaveLength(2);
    expect(ingest.queue.sent.map((m) => m.eventId)).toEqual(['tc-2']);
  });
});
