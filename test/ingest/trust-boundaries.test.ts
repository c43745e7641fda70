import { describe, expect, it } from 'vitest';
import { admit } from '../../functions/core/ingest/admission';
import type { IngestRequest } from '../../functions/core/ingest/http';
import { ingestRouteAccess } from '../../functions/core/ingest/ingest-app';
import {
  bamboohrSigned,
  bearer,
  hireEvent,
  INGEST_TOKEN,
  ingestFor,
  jsonRequest,
  signed,
  WEBHOOK_SECRET,
} from '../support/ingest-harness';
import { expectNoSecretsInResponses, expectNothingRecorded, sentIds } from './ingest-assertions';

expectNoSecretsInResponses();

const credentials = { webhookSecret: WEBHOOK_SECRET, ingestToken: INGEST_TOKEN };
const nowSeconds = () => Math.floor(Date.now() / 1000);
const get = (path: string, headers: Record<string, string>) => ({ method: 'GET', path, headers });

describe('credentials are bound to their routes', () => {
  it('signed headers captured from POST /events open neither GET /events nor GET /events/{id}', async () => {
    const ingest = ingestFor();
    const body = JSON.stringify(hireEvent('evt-1'));
    const headers = signed(body);
    expect((await ingest.call(jsonRequest('/events', body, headers))).status).toBe(202);

    for (const path of ['/events', '/events/evt-1']) {
      const replayed = await ingest.call({ ...get(path, headers), body: Buffer.from(body) });
      expect(replayed.status).toBe(401);
      expect(replayed.headers['www-authenticate']).toBe('Bearer');
      expect(replayed.json).toEqual({
        error: 'unauthorized',
        message: expect.stringContaining(`webhook signature authorises only the signed ingest routes`),
      });
      expect(replayed.json.message).toContain(`not GET ${path}`);
      expect(replayed.body).not.toContain('ada@example.com');
    }
    // The token still reads them.
    expect((await ingest.call(get('/events', bearer()))).status).toBe(200);
  });

  it('operator routes without credentials say how to authenticate, naming IAM for AWS', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(get('/events', {}));

    expect(response.status).toBe(401);
    expect(response.json.message).toMatch(/missing credentials: send Authorization: Bearer <token>.*IAM/);
  });

  it('IAM identity from the gateway opens operator routes only', async () => {
    const ingest = ingestFor();
    const read = await ingest.call({ ...get('/events', {}), gatewayAuthorized: true });
    const write = await ingest.call({
      ...jsonRequest('/events', hireEvent('evt-2'), {}),
      gatewayAuthorized: true,
    });
    const batch = await ingest.call({
      method: 'POST',
      path: '/batch',
      headers: { 'content-type': 'text/csv' },
      body: Buffer.from('type,email\nhire,a@example.com\n'),
      gatewayAuthorized: true,
    });

    expect(read.status).toBe(200);
    expect([write.status, batch.status]).toEqual([401, 401]);
    expect(write.json.message).toMatch(/missing credentials/);
    await expectNothingRecorded(ingest);
  });

  it('the route table says which kind each route is', () => {
    expect(ingestRouteAccess('POST', '/events')?.auth).toBe('ingest');
    expect(ingestRouteAccess('POST', '/batch')?.auth).toBe('ingest');
    expect(ingestRouteAccess('GET', '/events')?.auth).toBe('operator');
    expect(ingestRouteAccess('GET', '/events/evt-1')?.auth).toBe('operator');
    expect(ingestRouteAccess('POST', '/webhooks/bamboohr')?.auth).toBe('own');
    expect(ingestRouteAccess('GET', '/healthz')?.auth).toBe('none');
    expect(ingestRouteAccess('DELETE', '/events')).toBeUndefined();
  });
});

describe('webhook-ids: one id, one message', () => {
  it('the same id with a different body → 409 naming the id; nothing of the second body is recorded', async () => {
    const ingest = ingestFor();
    const first = JSON.stringify(hireEvent('evt-1'));
    const headers = signed(first, WEBHOOK_SECRET, nowSeconds(), 'msg_replayed');
    expect((await ingest.call(jsonRequest('/events', first, headers))).status).toBe(202);

    const second = JSON.stringify(hireEvent('evt-2', 'eve@example.com'));
    const forged = signed(second, WEBHOOK_SECRET, nowSeconds(), 'msg_replayed');
    const response = await ingest.call(jsonRequest('/events', second, forged));

    expect(response.status).toBe(409);
    expect(response.json).toEqual({
      error: 'webhook_id_reused',
      message: expect.stringContaining('webhook-id msg_replayed was already used for a different request'),
    });
    expect(sentIds(ingest.queue)).toEqual(['evt-1']);
    expect(await ingest.store.get('evt-2')).toBeUndefined();
  });

  it('the same id with the same body (the sender retrying, signed again) goes through as a duplicate', async () => {
    const ingest = ingestFor();
    const body = JSON.stringify(hireEvent('evt-1'));
    const first = await ingest.call(
      jsonRequest('/events', body, signed(body, WEBHOOK_SECRET, nowSeconds() - 30)),
    );
    const retry = await ingest.call(jsonRequest('/events', body, signed(body)));

    expect([first.status, retry.status]).toEqual([202, 202]);
    expect(retry.json).toEqual({ events: [{ id: 'evt-1', status: 'queued', duplicate: true }] });
    expect(sentIds(ingest.queue)).toEqual(['evt-1']);
  });

  it('the same id and body on another route is another request → 409', async () => {
    const ingest = ingestFor();
    const body = JSON.stringify(hireEvent('evt-1'));
    const headers = signed(body, WEBHOOK_SECRET, nowSeconds(), 'msg_route');
    expect((await ingest.call(jsonRequest('/events', body, headers))).status).toBe(202);
    const elsewhere = await ingest.call({
      ...jsonRequest('/batch', body, headers),
      headers: { ...headers, 'content-type': 'application/x-ndjson' },
    });

    expect(elsewhere.status).toBe(409);
    expect(elsewhere.json.message).toContain('webhook-id msg_route');
    expect(sentIds(ingest.queue)).toEqual(['evt-1']);
  });

  it('records the id only for a signature that verified: a refused one leaves no record', async () => {
    const ingest = ingestFor();
    const body = JSON.stringify(hireEvent('evt-1'));
    const wrong = { ...signed(body, WEBHOOK_SECRET, nowSeconds(), 'msg_x'), 'webhook-signature': 'v1,AAAA' };
    expect((await ingest.call(jsonRequest('/events', body, wrong))).status).toBe(401);
    expect(ingest.webhookIds.recorded()).toEqual([]);
    const byToken = jsonRequest('/events', hireEvent('evt-token'), bearer());
    expect((await ingest.call(byToken)).status).toBe(202);
    expect(ingest.webhookIds.recorded()).toEqual([]);

    expect(
      (await ingest.call(jsonRequest('/events', body, signed(body, WEBHOOK_SECRET, nowSeconds(), 'msg_x'))))
        .status,
    ).toBe(202);
    expect(ingest.webhookIds.recorded()).toEqual(['msg_x']);
  });

  it('forgets an id once no signature with it can be accepted any more (after the five-minute window)', async () => {
    let now = Date.now();
    const ingest = ingestFor({ now: () => now });
    const a = JSON.stringify(hireEvent('evt-1'));
    expect(
      (await ingest.call(jsonRequest('/events', a, signed(a, WEBHOOK_SECRET, nowSeconds(), 'msg_old'))))
        .status,
    ).toBe(202);
    const b = JSON.stringify(hireEvent('evt-2'));
    now += 4 * 60_000;
    expect(
      (await ingest.call(jsonRequest('/events', b, signed(b, WEBHOOK_SECRET, nowSeconds(), 'msg_old'))))
        .status,
    ).toBe(409);
    now += 8 * 60_000;
    expect(
      (await ingest.call(jsonRequest('/events', b, signed(b, WEBHOOK_SECRET, nowSeconds(), 'msg_old'))))
        .status,
    ).toBe(202);
  });

  it('a webhook-id that is too long or not printable ASCII → 400 naming the header', async () => {
    const ingest = ingestFor();
    const body = JSON.stringify(hireEvent('evt-1'));
    const response = await ingest.call(
      jsonRequest('/events', body, signed(body, WEBHOOK_SECRET, nowSeconds(), `msg_${'x'.repeat(300)}`)),
    );

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({
      error: 'invalid_webhook_id',
      message: expect.stringContaining('webhook-id'),
    });
    await expectNothingRecorded(ingest);
  });
});

const BAD_EMAILS: [string, string, RegExp][] = [
  ['a Cyrillic look-alike letter', '\u0430da@example.com', /part before @ must be ASCII: U\+0430/],
  ['a NUL', 'ada\u0000@example.com', /control, invisible or bidirectional characters \(U\+0000/],
  ['a 5,000-character local part', `${'a'.repeat(5000)}@example.com`, /at most 254 characters/],
  [
    'a 65-character local part',
    `${'a'.repeat(65)}@example.com`,
    /part before @ must be at most 64 characters/,
  ],
  ['angle brackets', '<ada@example.com>', /without a display name or angle brackets/],
  ['a display name', 'Ada Lovelace <ada@example.com>', /without a display name or angle brackets/],
  ['a zero-width space', 'ada\u200b@example.com', /U\+200B/],
  ['a right-to-left override', 'ada\u202e@example.com', /U\+202E/],
  ['a terminal escape sequence', 'ada\u001b[31m@example.com', /U\+001B/],
  ['a Unicode domain', 'ada@b\u00fccher.de', /domain must be ASCII.*IDNA form \(xn--bcher-kva\.de\)/],
  ['a look-alike domain', 'ada@ex\u0430mple.com', /domain must be ASCII/],
  ['a broken punycode label', 'ada@xn--zz.com', /must be an email address/],
];

describe('emails at the edge', () => {
  it.each(BAD_EMAILS)(
    'POST /events: %s → 400 naming employee.email and why',
    async (_name, email, reason) => {
      const ingest = ingestFor();
      const response = await ingest.call(jsonRequest('/events', hireEvent('evt-1', email)));

      expect(response.status).toBe(400);
      expect(response.json.error).toBe('invalid_event');
      const issues = response.json.issues as { path: string; message: string }[];
      expect(issues.map((i) => i.path)).toEqual(['employee.email']);
      expect(issues[0]?.message).toMatch(reason);
      expect(response.json.message).toMatch(/employee\.email: /);
      await expectNothingRecorded(ingest);
    },
  );

  it('managerEmail follows the same rule', async () => {
    const ingest = ingestFor();
    const event = {
      ...hireEvent('evt-1'),
      employee: { id: 'E1', email: 'ada@example.com', managerEmail: 'b\u202eob@example.com' },
    };
    const response = await ingest.call(jsonRequest('/events', event));

    expect(response.status).toBe(400);
    expect(response.json.issues).toEqual([
      { path: 'employee.managerEmail', message: expect.stringMatching(/U\+202E/) },
    ]);
    await expectNothingRecorded(ingest);
  });

  it('accepts a plain address, an IDNA domain, and trims and lower-cases as before', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(
      jsonRequest('/events', [
        hireEvent('evt-1', '  Ada.Lovelace+hr@Example.COM '),
        hireEvent('evt-2', "o'brien@xn--bcher-kva.de"),
      ]),
    );

    expect(response.status).toBe(202);
    expect((await ingest.store.get('evt-1'))?.event.employee.email).toBe('ada.lovelace+hr@example.com');
    expect((await ingest.store.get('evt-2'))?.event.employee.email).toBe("o'brien@xn--bcher-kva.de");
  });

  it('text fields refuse controls and bidi characters too, naming the field', async () => {
    const ingest = ingestFor();
    const event = {
      ...hireEvent('evt-1'),
      employee: {
        id: 'E1',
        email: 'ada@example.com',
        name: 'Ada\u202eecalevol',
        title: 'x\u001b]0;pwned\u0007',
      },
    };
    const response = await ingest.call(jsonRequest('/events', event));

    expect(response.status).toBe(400);
    expect(response.json.issues).toEqual([
      { path: 'employee.name', message: expect.stringMatching(/U\+202E at character 4/) },
      { path: 'employee.title', message: expect.stringMatching(/U\+001B at character 2/) },
    ]);
    await expectNothingRecorded(ingest);
  });

  it('CSV batches name the column (email, manager_email); the good rows still go', async () => {
    const ingest = ingestFor();
    const csv = [
      'id,type,email,manager_email',
      'c-1,hire,ok@example.com,',
      'c-2,hire,\u0430da@example.com,',
      'c-3,hire,ok3@example.com,<boss@example.com>',
    ].join('\n');
    const response = await ingest.call({
      method: 'POST',
      path: '/batch',
      headers: { ...bearer(), 'content-type': 'text/csv' },
      body: Buffer.from(csv),
    });

    expect(response.status).toBe(202);
    expect(response.json.rejected).toEqual([
      { line: 3, error: expect.stringMatching(/^email: the part before @ must be ASCII: U\+0430/) },
      { line: 4, error: expect.stringMatching(/^manager_email: must be a bare address/) },
    ]);
    expect(sentIds(ingest.queue)).toEqual(['c-1']);
  });

  it('NDJSON batches name the canonical path', async () => {
    const ingest = ingestFor();
    const ndjson = [
      JSON.stringify(hireEvent('n-1')),
      JSON.stringify(hireEvent('n-2', 'a\u200d@example.com')),
    ].join('\n');
    const response = await ingest.call({
      method: 'POST',
      path: '/batch',
      headers: { ...bearer(), 'content-type': 'application/x-ndjson' },
      body: Buffer.from(ndjson),
    });

    expect(response.json.rejected).toEqual([
      { line: 2, error: expect.stringMatching(/^employee\.email: .*U\+200D/) },
    ]);
    expect(sentIds(ingest.queue)).toEqual(['n-1']);
  });

  it('BambooHR: an entry with a bad work email is skipped with the field and reason named, nothing recorded', async () => {
    const ingest = ingestFor();
    const body = JSON.stringify({
      employees: [
        {
          id: '77',
          action: 'Updated',
          timestamp: '2026-11-28T16:33:28+00:00',
          changedFields: ['Job Title'],
          fields: {
            'Employee #': 'E77',
            'Work Email': 'Ada <ada@example.com>',
            'Job Title': 'x',
            Status: 'Active',
          },
        },
      ],
    });
    const response = await ingest.call(jsonRequest('/webhooks/bamboohr', body, bamboohrSigned(body)));

    expect(response.status).toBe(202);
    expect(response.json.skipped).toEqual([
      { employeeId: '77', reason: expect.stringMatching(/employee\.email: must be a bare address/) },
    ]);
    await expectNothingRecorded(ingest);
  });
});

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('deeply nested JSON', () => {
  it('POST /events: 100,000 levels → 400 naming the depth, not a 500', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(jsonRequest('/events', nested(100_000)));

    expect(response.status).toBe(400);
    expect(response.json).toEqual({
      error: 'malformed_json',
      message: 'JSON nested deeper than 64 levels at line 1, column 65',
    });
    await expectNothingRecorded(ingest);
  });

  it('65 levels inside an event → 400; 64 levels parse (and fail validation as usual)', async () => {
    const ingest = ingestFor();
    const deep = `{"id":"evt-1","type":"hire","occurredAt":"2026-11-29T09:00:00Z","employee":${nested(64)}}`;
    expect((await ingest.call(jsonRequest('/events', deep))).json.error).toBe('malformed_json');
    const shallower = `{"id":"evt-1","type":"hire","occurredAt":"2026-11-29T09:00:00Z","employee":${nested(63)}}`;
    expect((await ingest.call(jsonRequest('/events', shallower))).json.error).toBe('invalid_event');
    await expectNothingRecorded(ingest);
  });

  it('BambooHR webhooks and NDJSON lines are refused the same way', async () => {
    const ingest = ingestFor();
    const body = `{"employees":${nested(10_000)}}`;
    const webhook = await ingest.call(jsonRequest('/webhooks/bamboohr', body, bamboohrSigned(body)));
    const batch = await ingest.call({
      method: 'POST',
      path: '/batch',
      headers: { ...bearer(), 'content-type': 'application/x-ndjson' },
      body: Buffer.from(`${JSON.stringify(hireEvent('n-1'))}\n${nested(10_000)}\n`),
    });

    expect(webhook.status).toBe(400);
    expect(webhook.json.message).toMatch(/nested deeper than 64 levels/);
    expect(batch.status).toBe(202);
    expect(batch.json.rejected).toEqual([{ line: 2, error: 'invalid JSON: nested deeper than 64 levels' }]);
    expect(sentIds(ingest.queue)).toEqual(['n-1']);
  });
});

describe('admission: what may be read before the body', () => {
  const head = (method: string, path: string, headers: Record<string, string>): IngestRequest => ({
    method,
    path,
    query: {},
    headers,
    body: Buffer.alloc(0),
  });
  const decide = (method: string, path: string, headers: Record<string, string> = {}) =>
    admit(head(method, path, headers), ingestRouteAccess(method, path), credentials);

  it('no credentials on an ingest or operator route: refused at once, nothing read', () => {
    const answer = decide('POST', '/events', { 'content-length': String(5 * 1024 * 1024) });
    expect(answer).toEqual({ refuse: expect.objectContaining({ status: 401 }) });
    expect(decide('GET', '/events')).toEqual({ refuse: expect.objectContaining({ status: 401 }) });
  });

  it('a wrong bearer token: refused at once; the right one: the route limit', () => {
    expect(decide('POST', '/batch', bearer('wrong'))).toEqual({
      refuse: expect.objectContaining({ status: 401 }),
    });
    expect(decide('POST', '/batch', bearer())).toMatchObject({ maxBytes: 5 * 1024 * 1024 });
    expect(decide('POST', '/events', bearer())).toMatchObject({ maxBytes: 1024 * 1024 });
  });

  it('a body declared larger than the route takes: 413 before reading', () => {
    const answer = decide('POST', '/events', { ...bearer(), 'content-length': String(2 * 1024 * 1024) });
    expect(answer).toEqual({ refuse: expect.objectContaining({ status: 413 }) });
    if ('refuse' in answer) expect(answer.refuse.body).toContain('POST /events takes at most 1 MiB');
  });

  it('signature headers: a stale or incomplete one is refused before the body; a fresh one reads up to the route limit', () => {
    const stale = signed('{}', WEBHOOK_SECRET, nowSeconds() - 600);
    const refused = decide('POST', '/events', stale);
    expect(refused).toEqual({ refuse: expect.objectContaining({ status: 401 }) });
    if ('refuse' in refused) expect(refused.refuse.body).toMatch(/too old/);
    const { 'webhook-id': _id, ...incomplete } = signed('{}');
    expect(decide('POST', '/events', incomplete)).toEqual({
      refuse: expect.objectContaining({ status: 401 }),
    });
    expect(decide('POST', '/events', signed('{"a":1}'))).toMatchObject({ maxBytes: 1024 * 1024 });
    // On an operator route a signature counts for nothing.
    expect(decide('GET', '/events', signed(''))).toEqual({
      refuse: expect.objectContaining({ status: 401 }),
    });
  });

  it('BambooHR: signed, the route limit; unsigned, at most 64 KiB', () => {
    expect(decide('POST', '/webhooks/bamboohr', bamboohrSigned('{}'))).toMatchObject({
      maxBytes: 1024 * 1024,
    });
    expect(decide('POST', '/webhooks/bamboohr')).toMatchObject({ maxBytes: 64 * 1024 });
    expect(decide('POST', '/webhooks/bamboohr', { 'content-length': String(100 * 1024) })).toEqual({
      refuse: expect.objectContaining({ status: 413 }),
    });
  });

  it('unknown routes and /healthz read at most 64 KiB, unauthenticated', () => {
    expect(decide('POST', '/nope')).toMatchObject({ maxBytes: 64 * 1024 });
    expect(decide('GET', '/healthz')).toMatchObject({ maxBytes: 64 * 1024 });
  });

  it('IAM identity opens the operator routes only', () => {
    const iam = { ...head('GET', '/events', {}), gatewayAuthorized: true };
    expect(admit(iam, ingestRouteAccess('GET', '/events'), credentials)).toMatchObject({
      maxBytes: 64 * 1024,
    });
    const post = { ...head('POST', '/events', {}), gatewayAuthorized: true };
    expect(admit(post, ingestRouteAccess('POST', '/events'), credentials)).toEqual({
      refuse: expect.objectContaining({ status: 401 }),
    });
  });
});
