import { describe, expect, it } from 'vitest';
import {
  BAMBOOHR_KEY,
  bearer,
  hireEvent,
  INGEST_TOKEN,
  ingestFor,
  issuedSignatures,
  jsonRequest,
  secretsIn,
  signed,
  WEBHOOK_SECRET,
} from '../support/ingest-harness';
import { expectNoSecretsInResponses, expectNothingRecorded, sentIds } from './ingest-assertions';

expectNoSecretsInResponses();

const OTHER_SECRET = `whsec_${Buffer.from('another secret, 24 bytes').toString('base64')}`;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const body = JSON.stringify(hireEvent('evt-1'));

/** POST /events with the body and these headers (plus Content-Type). */
const post = (headers: Record<string, string>, text = body) => jsonRequest('/events', text, headers);

async function expectRefused(
  ingest: ReturnType<typeof ingestFor>,
  response: Awaited<ReturnType<ReturnType<typeof ingestFor>['call']>>,
  reason: RegExp,
) {
  expect(response.status).toBe(401);
  expect(response.headers['www-authenticate']).toBe('Bearer');
  expect(response.json).toMatchObject({ error: 'unauthorized' });
  expect(response.json.message).toMatch(reason);
  await expectNothingRecorded(ingest);
}

describe('authentication of POST /events', () => {
  it('accepts the bearer token, whatever the case of the scheme', async () => {
    const ingest = ingestFor();
    const a = await ingest.call(post(bearer()));
    const b = await ingest.call(
      post({ authorization: `bearer   ${INGEST_TOKEN}` }, JSON.stringify(hireEvent('evt-2'))),
    );

    expect([a.status, b.status]).toEqual([202, 202]);
    expect(sentIds(ingest.queue)).toEqual(['evt-1', 'evt-2']);
  });

  it('accepts a signature made four minutes ago', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(post(signed(body, WEBHOOK_SECRET, nowSeconds() - 240)));

    expect(response.status).toBe(202);
    expect(sentIds(ingest.queue)).toEqual(['evt-1']);
  });

  it('accepts a signature header that lists a stale signature next to the valid one (key rotation)', async () => {
    const ingest = ingestFor();
    const headers = signed(body);
    const stale = signed(body, OTHER_SECRET)['webhook-signature'];
    const response = await ingest.call(
      post({ ...headers, 'webhook-signature': `${stale} ${headers['webhook-signature']}` }),
    );

    expect(response.status).toBe(202);
  });

  it('no credentials → 401 saying how to authenticate', async () => {
    const ingest = ingestFor();
    await expectRefused(ingest, await ingest.call(post({})), /missing credentials/);
  });

  it.each([
    ['a wrong token', 'Bearer wrong-token'],
    ['a token one character short', `Bearer ${INGEST_TOKEN.slice(0, -1)}`],
    ['the token with a suffix', `Bearer ${INGEST_TOKEN}x`],
    ['an empty bearer', 'Bearer '],
    ['another scheme', `Basic ${Buffer.from(`user:${INGEST_TOKEN}`).toString('base64')}`],
    ['the bare token', INGEST_TOKEN],
  ])('%s → 401', async (_name, authorization) => {
    const ingest = ingestFor();
    await expectRefused(ingest, await ingest.call(post({ authorization })), /bearer token is not valid/);
  });

  it('a bearer token when no ingest token is configured → 401', async () => {
    const ingest = ingestFor({ credentials: async () => ({ webhookSecret: WEBHOOK_SECRET }) });
    await expectRefused(ingest, await ingest.call(post(bearer())), /bearer token is not valid/);
  });

  it('a signature made with another secret → 401', async () => {
    const ingest = ingestFor();
    await expectRefused(ingest, await ingest.call(post(signed(body, OTHER_SECRET))), /no matching signature/);
  });

  it('a signature older than five minutes (replay) → 401', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(post(signed(body, WEBHOOK_SECRET, nowSeconds() - 6 * 60)));
    await expectRefused(ingest, response, /too old/);
  });

  it('a signature six minutes in the future → 401', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(post(signed(body, WEBHOOK_SECRET, nowSeconds() + 6 * 60)));
    await expectRefused(ingest, response, /too new/);
  });

  it('a tampered body → 401', async () => {
    const ingest = ingestFor();
    const headers = signed(body);
    const tampered = body.replace('ada@example.com', 'eve@example.com');
    await expectRefused(ingest, await ingest.call(post(headers, tampered)), /no matching signature/);
  });

  it('a signature moved to another timestamp or message id → 401', async () => {
    const ingest = ingestFor();
    const headers = signed(body);
    const otherTime = { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) - 1) };
    const otherId = { ...headers, 'webhook-id': 'msg_other' };
    await expectRefused(ingest, await ingest.call(post(otherTime)), /no matching signature/);
    await expectRefused(ingest, await ingest.call(post(otherId)), /no matching signature/);
  });

  it('a signature without its id or timestamp header → 401', async () => {
    const ingest = ingestFor();
    const { 'webhook-id': _id, ...withoutId } = signed(body);
    const { 'webhook-timestamp': _ts, ...withoutTimestamp } = signed(body);
    await expectRefused(ingest, await ingest.call(post(withoutId)), /missing required headers/);
    await expectRefused(ingest, await ingest.call(post(withoutTimestamp)), /missing required headers/);
  });

  it('a signature when no webhook secret is configured → 401', async () => {
    const ingest = ingestFor({ credentials: async () => ({ ingestToken: INGEST_TOKEN }) });
    await expectRefused(ingest, await ingest.call(post(signed(body))), /not configured/);
  });

  it('IAM identity from the gateway does not open POST /events (not an IAM route): it still needs a signature or the token', async () => {
    const ingest = ingestFor();
    const response = await ingest.call({ ...post({}), gatewayAuthorized: true });
    await expectRefused(ingest, response, /missing credentials/);

    const withToken = await ingest.call({ ...post(bearer()), gatewayAuthorized: true });
    expect(withToken.status).toBe(202);
    expect(sentIds(ingest.queue)).toEqual(['evt-1']);
  });

  it('authenticates before reading the body: a bad body without credentials is a 401, not a 400', async () => {
    const ingest = ingestFor();
    await expectRefused(ingest, await ingest.call(post({}, '{ not json')), /missing credentials/);
  });

  it('POST /batch is authenticated the same way', async () => {
    const ingest = ingestFor();
    const csv = 'id,type,email\nb-1,hire,a@example.com\n';
    const request = (headers: Record<string, string>) => ({
      method: 'POST',
      path: '/batch',
      headers: { 'content-type': 'text/csv', ...headers },
      body: Buffer.from(csv),
    });
    await expectRefused(ingest, await ingest.call(request({})), /missing credentials/);
    await expectRefused(ingest, await ingest.call(request(bearer('nope'))), /not valid/);
    const stale = signed(csv, WEBHOOK_SECRET, nowSeconds() - 6 * 60);
    await expectRefused(ingest, await ingest.call(request(stale)), /too old/);

    expect((await ingest.call(request(signed(csv)))).status).toBe(202);
    expect(sentIds(ingest.queue)).toEqual(['b-1']);
  });
});

describe('secrets in responses', () => {
  it('the leak check itself finds each secret and each signature a test sent', () => {
    const signature = signed('{}')['webhook-signature'];
    expect(issuedSignatures.has(signature)).toBe(true);
    for (const secret of [INGEST_TOKEN, WEBHOOK_SECRET, BAMBOOHR_KEY, signature, signature.slice(3)]) {
      expect(secretsIn(`{"message":"bad: ${secret}"}`)).not.toEqual([]);
    }
    expect(secretsIn('{"error":"unauthorized","message":"the bearer token is not valid"}')).toEqual([]);
  });

  it('no 401 repeats the token, the secret or the signature that was sent', async () => {
    const ingest = ingestFor();
    const responses = [
      await ingest.call(post(bearer(`${INGEST_TOKEN}-wrong`))),
      await ingest.call(post(signed(body, OTHER_SECRET))),
      await ingest.call(post(signed(body, WEBHOOK_SECRET, nowSeconds() - 3600))),
      await ingest.call(post({ authorization: `Bearer ${WEBHOOK_SECRET}` })),
    ];
    for (const response of responses) {
      expect(response.status).toBe(401);
      expect(response.body).not.toContain(INGEST_TOKEN);
      expect(response.body).not.toContain(WEBHOOK_SECRET.slice('whsec_'.length));
      expect(response.body).not.toContain(OTHER_SECRET.slice('whsec_'.length));
    }
  });
});
