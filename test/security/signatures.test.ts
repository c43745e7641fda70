import { createHash, createHmac, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expectNoSecretsInResponses, expectNothingRecorded, sentIds } from '../ingest/ingest-assertions';
import {
  BAMBOOHR_KEY,
  bamboohrSigned,
  hireEvent,
  INGEST_TOKEN,
  ingestFor,
  jsonRequest,
  signed,
  WEBHOOK_SECRET,
} from '../support/ingest-harness';

/*
 * Issue 14: forged, replayed and expired signatures, for both signature schemes the ingest takes: Standard
 * Webhooks (POST /events, POST /batch; verified by the `standardwebhooks` package in authenticate.ts) and
 * BambooHR's HMAC (POST /webhooks/bamboohr; bamboohr/signature.ts). Every refusal is checked whole: the
 * status, the error body, and that nothing was recorded, enqueued or remembered as a webhook-id.
 *
 * Already covered elsewhere, not repeated here: the plain cases (another key, a tampered body, a signature
 * moved to another id or timestamp, a missing header, six minutes either side) in test/ingest/auth.test.ts
 * and test/ingest/post-bamboohr.test.ts; a webhook-id reused for another body or route (409) in
 * test/ingest/trust-boundaries.test.ts; the verifier alone in test/ingest/bamboohr/verify-signature.test.ts.
 * This file adds the forgeries an implementation slip would let through, and replays told as a story: the
 * same captured request, accepted once, then replayed within the window and after it.
 */

expectNoSecretsInResponses();

afterEach(() => {
  vi.useRealTimers();
});

const T0 = Date.parse('2026-11-29T09:00:00Z');
const seconds = (ms: number) => Math.floor(ms / 1000);
const hmacB64 = (key: Buffer | string, text: string) =>
  createHmac('sha256', key).update(text).digest('base64');
/** The key Standard Webhooks signs with: the base64 after `whsec_`, decoded. */
const WEBHOOK_KEY = Buffer.from(WEBHOOK_SECRET.slice('whsec_'.length), 'base64');

type Ingest = ReturnType<typeof ingestFor>;
type Answer = Awaited<ReturnType<Ingest['call']>>;

/** A refusal leaves no trace: no event, no message, no webhook-id remembered. */
async function expectRefused(ingest: Ingest, answer: Answer, reason: RegExp): Promise<void> {
  expect(answer.status).toBe(401);
  expect(answer.json).toEqual({ error: 'unauthorized', message: expect.stringMatching(reason) });
  await expectNothingRecorded(ingest);
  expect(ingest.webhookIds.recorded()).toEqual([]);
}

const eventsBody = JSON.stringify(hireEvent('sig-1', 'sig.one@example.com'));
const csvBody = 'id,type,employee_id,email\nsig-csv-1,hire,E-SIG-1,sig.csv@example.com\n';

/** POST /events or POST /batch (CSV) with exactly these signature headers. */
function signedPost(route: '/events' | '/batch', headers: Record<string, string>) {
  const body = route === '/events' ? eventsBody : csvBody;
  return {
    method: 'POST',
    path: route,
    headers: { 'content-type': route === '/events' ? 'application/json' : 'text/csv', ...headers },
    body: Buffer.from(body),
  };
}

/** Standard Webhooks headers for `route`'s body, with the signature header made by `forge`. */
function forgedHeaders(
  route: '/events' | '/batch',
  forge: (id: string, timestamp: number, body: string) => string,
  at = seconds(Date.now()),
): Record<string, string> {
  const body = route === '/events' ? eventsBody : csvBody;
  const id = `msg_forged_${createHash('sha256').update(body).digest('hex').slice(0, 12)}`;
  return { 'webhook-id': id, 'webhook-timestamp': String(at), 'webhook-signature': forge(id, at, body) };
}

describe.each(['/events', '/batch'] as const)('Standard Webhooks on POST %s: forged signatures', (route) => {
  const forgeries: [string, (id: string, at: number, body: string) => string][] = [
    // A verifier that forgot to base64-decode the secret would accept this.
    [
      'keyed with the secret text instead of its decoded bytes',
      (id, at, body) => `v1,${hmacB64(WEBHOOK_SECRET, `${id}.${at}.${body}`)}`,
    ],
    [
      'over the body alone (without id and timestamp)',
      (_id, _at, body) => `v1,${hmacB64(WEBHOOK_KEY, body)}`,
    ],
    [
      'the right HMAC labelled with another version (v1a)',
      (id, at, body) => `v1a,${hmacB64(WEBHOOK_KEY, `${id}.${at}.${body}`)}`,
    ],
    ['the right HMAC without a version', (id, at, body) => hmacB64(WEBHOOK_KEY, `${id}.${at}.${body}`)],
    ['keyed with the ingest token', (id, at, body) => `v1,${hmacB64(INGEST_TOKEN, `${id}.${at}.${body}`)}`],
    [
      'fifty random signatures in one header',
      () => Array.from({ length: 50 }, () => `v1,${randomBytes(32).toString('base64')}`).join(' '),
    ],
    ['an empty v1 signature', () => 'v1,'],
  ];

  it.each(forgeries)('%s → 401 no matching signature, nothing recorded', async (_name, forge) => {
    const ingest = ingestFor();
    const answer = await ingest.call(signedPost(route, forgedHeaders(route, forge)));
    await expectRefused(ingest, answer, /^webhook signature rejected: no matching signature found$/);
  });

  it('a timestamp that is not a number → 401 naming the headers, nothing recorded', async () => {
    const ingest = ingestFor();
    const headers = { ...forgedHeaders(route, () => 'v1,AAAA'), 'webhook-timestamp': 'yesterday' };
    const answer = await ingest.call(signedPost(route, headers));
    await expectRefused(ingest, answer, /^webhook signature rejected: invalid signature headers$/);
  });
});

describe('Standard Webhooks: expired and replayed', () => {
  it('the boundary is five minutes: 299 s old is accepted, 301 s old is refused with nothing recorded', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    const fresh = ingestFor();
    const justInTime = signed(eventsBody, WEBHOOK_SECRET, seconds(T0) - 299);
    expect((await fresh.call(jsonRequest('/events', eventsBody, justInTime))).status).toBe(202);

    const ingest = ingestFor();
    const expired = signed(eventsBody, WEBHOOK_SECRET, seconds(T0) - 301);
    const answer = await ingest.call(jsonRequest('/events', eventsBody, expired));
    await expectRefused(ingest, answer, /^webhook signature rejected: message timestamp too old$/);
  });

  it('a timestamp in milliseconds (a sender slip) reads as far in the future → 401', async () => {
    const ingest = ingestFor();
    const millis = signed(eventsBody, WEBHOOK_SECRET, Date.now());
    const answer = await ingest.call(jsonRequest('/events', eventsBody, millis));
    await expectRefused(ingest, answer, /^webhook signature rejected: message timestamp too new$/);
  });

  it('one captured request: accepted, replayed within the window as a duplicate, refused after it; enqueued once', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    const ingest = ingestFor();
    const captured = jsonRequest('/events', eventsBody, signed(eventsBody, WEBHOOK_SECRET, seconds(T0)));
    expect((await ingest.call(captured)).status).toBe(202);

    vi.setSystemTime(T0 + 4 * 60_000);
    const withinWindow = await ingest.call(captured);
    expect(withinWindow.status).toBe(202);
    expect(withinWindow.json).toEqual({ events: [{ id: 'sig-1', status: 'queued', duplicate: true }] });

    vi.setSystemTime(T0 + 6 * 60_000);
    const afterWindow = await ingest.call(captured);
    expect(afterWindow.status).toBe(401);
    expect(afterWindow.json).toEqual({
      error: 'unauthorized',
      message: 'webhook signature rejected: message timestamp too old',
    });
    expect(sentIds(ingest.queue)).toEqual(['sig-1']);
  });

  it('a replay with the timestamp header rewritten to now → 401: the timestamp is signed', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    const captured = signed(eventsBody, WEBHOOK_SECRET, seconds(T0) - 10 * 60);
    const ingest = ingestFor();
    const refreshed = { ...captured, 'webhook-timestamp': String(seconds(T0)) };
    const answer = await ingest.call(jsonRequest('/events', eventsBody, refreshed));
    await expectRefused(ingest, answer, /no matching signature found/);
  });
});

/** A BambooHR delivery with one Updated entry, which maps to an event without a directory lookup. */
const delivery = JSON.stringify({
  employees: [
    {
      id: '4242',
      action: 'Updated',
      timestamp: '2026-11-29T08:59:00+00:00',
      changedFields: ['Job Title'],
      fields: {
        'Employee #': 'E4242',
        'Work Email': 'sig.bamboo@example.com',
        'Job Title': 'Engineer',
        Status: 'Active',
      },
    },
  ],
});
const bambooHex = (key: string, ...parts: string[]) => {
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest('hex');
};
const deliver = (headers: Record<string, string>) => jsonRequest('/webhooks/bamboohr', delivery, headers);

describe('BambooHR on POST /webhooks/bamboohr: forged signatures', () => {
  const forgeries: [string, (timestamp: string) => string, RegExp][] = [
    [
      'over the body alone (without the timestamp)',
      () => bambooHex(BAMBOOHR_KEY, delivery),
      /does not match/,
    ],
    ['over the timestamp, then the body', (ts) => bambooHex(BAMBOOHR_KEY, ts, delivery), /does not match/],
    ['keyed with the ingest token', (ts) => bambooHex(INGEST_TOKEN, delivery, ts), /does not match/],
    [
      'HMAC-SHA1 (40 hex characters)',
      (ts) => createHmac('sha1', BAMBOOHR_KEY).update(delivery).update(ts).digest('hex'),
      /not a 64-character hex/,
    ],
    [
      'the right HMAC in base64 instead of hex',
      (ts) => createHmac('sha256', BAMBOOHR_KEY).update(delivery).update(ts).digest('base64'),
      /not a 64-character hex/,
    ],
    ['sixty-four zeros', () => '0'.repeat(64), /does not match/],
  ];

  it.each(forgeries)('%s → 401, nothing recorded', async (_name, forge, reason) => {
    const ingest = ingestFor();
    const timestamp = String(seconds(Date.now()));
    const answer = await ingest.call(
      deliver({ 'x-bamboohr-timestamp': timestamp, 'x-bamboohr-signature': forge(timestamp) }),
    );
    await expectRefused(ingest, answer, reason);
  });
});

describe('BambooHR: expired and replayed', () => {
  it('one captured delivery: accepted, replayed within the window as duplicates, refused after it; enqueued once', async () => {
    let now = T0;
    const ingest = ingestFor({ now: () => now });
    const captured = deliver(bamboohrSigned(delivery, BAMBOOHR_KEY, seconds(T0)));
    const first = await ingest.call(captured);
    expect(first.status).toBe(202);
    const ids = sentIds(ingest.queue);
    expect(ids).toHaveLength(1);

    now = T0 + 4 * 60_000;
    const withinWindow = await ingest.call(captured);
    expect(withinWindow.status).toBe(202);
    expect(withinWindow.json.events).toEqual([expect.objectContaining({ id: ids[0], duplicate: true })]);

    now = T0 + 6 * 60_000;
    const afterWindow = await ingest.call(captured);
    expect(afterWindow.status).toBe(401);
    expect(afterWindow.json).toEqual({
      error: 'unauthorized',
      message: 'X-BambooHR-Timestamp is too old (possible replay)',
    });
    expect(sentIds(ingest.queue)).toEqual(ids);
  });

  it('a replay with the timestamp header rewritten to now → 401: the timestamp is signed', async () => {
    const ingest = ingestFor();
    const captured = bamboohrSigned(delivery, BAMBOOHR_KEY, seconds(Date.now()) - 10 * 60);
    const refreshed = { ...captured, 'x-bamboohr-timestamp': String(seconds(Date.now())) };
    await expectRefused(ingest, await ingest.call(deliver(refreshed)), /does not match/);
  });

  it('a timestamp in milliseconds (13 digits) → 401 as unreadable, nothing recorded', async () => {
    const ingest = ingestFor();
    const millis = bamboohrSigned(delivery, BAMBOOHR_KEY, Date.now());
    await expectRefused(ingest, await ingest.call(deliver(millis)), /neither Unix seconds nor an ISO-8601/);
  });
});
