import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox';
import { type FakeBambooHr, startFakeBambooHr } from '../support/fake-bamboohr';
import { bamboohrSigned, hireEvent, signed } from '../support/ingest-harness';
import {
  api,
  type RuntimeProcess,
  removeDataDir,
  startRuntimeProcess,
  TEST_TOKEN,
  waitFor,
} from '../support/runtime-process';

/*
 * Issue 14: no configured secret appears in any log line or error body. `npm start` runs as a child process
 * at LOG_LEVEL=DEBUG against a TrueFoundry sandbox and a fake BambooHR API, every secret configured (none
 * generated, so the banner has none to show), and is taken through a hire, a 401 from TrueFoundry, bad
 * tokens (among them the other secrets, sent as the token) and failing webhooks. Then all it wrote, stdout
 * and stderr, and every answer it gave are searched for each secret in every form it travels in, and for
 * any 12 characters of it in a row (a truncated secret is still a leak).
 */

const TFY_API_KEY = `tfy-${randomBytes(24).toString('hex')}`;
// Printable key bytes, so that their decoded form can be searched for as text too.
const WEBHOOK_KEY_TEXT = randomBytes(18).toString('hex');
const WEBHOOK_SECRET = `whsec_${Buffer.from(WEBHOOK_KEY_TEXT).toString('base64')}`;
const BAMBOOHR_WEBHOOK_KEY = randomBytes(16).toString('hex');
const BAMBOOHR_API_KEY = randomBytes(20).toString('hex');
const COMPANY = 'acme';

/** Each secret as configured, and in the forms it travels in (base64 of the whsec key, Basic auth). */
const SECRET_FORMS: Record<string, string[]> = {
  INGEST_TOKEN: [TEST_TOKEN],
  TFY_API_KEY: [TFY_API_KEY],
  WEBHOOK_SECRET: [WEBHOOK_SECRET, WEBHOOK_KEY_TEXT],
  BAMBOOHR_WEBHOOK_KEY: [BAMBOOHR_WEBHOOK_KEY],
  BAMBOOHR_API_KEY: [BAMBOOHR_API_KEY, Buffer.from(`${BAMBOOHR_API_KEY}:x`).toString('base64')],
};
const WINDOW = 12;

/** Every secret found in `text`, by name: whole, or any 12 characters of one of its forms in a row. */
function secretsIn(text: string): string[] {
  const lower = text.toLowerCase();
  return Object.entries(SECRET_FORMS).flatMap(([name, forms]) =>
    forms.some((form) =>
      Array.from({ length: form.length - WINDOW + 1 }, (_, i) => form.slice(i, i + WINDOW)).some((part) =>
        lower.includes(part.toLowerCase()),
      ),
    )
      ? [name]
      : [],
  );
}

let sandbox: Sandbox;
let bamboo: FakeBambooHr;
let runtime: RuntimeProcess;
/** Every answer the runtime gave in this file, `METHOD path → status body`. */
const answers: string[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ apiKey: TFY_API_KEY });
  bamboo = await startFakeBambooHr({
    apiKey: BAMBOOHR_API_KEY,
    companyDomain: COMPANY,
    employees: {},
    // 9001: BambooHR is down (the delivery is answered 503 for a retry); 9002: it refuses the key.
    faults: { '9001': 500, '9002': 401 },
  });
  runtime = await startRuntimeProcess({
    TFY_BASE_URL: sandbox.url,
    TFY_API_KEY,
    WEBHOOK_SECRET,
    BAMBOOHR_WEBHOOK_KEY,
    BAMBOOHR_API_KEY,
    BAMBOOHR_COMPANY_DOMAIN: COMPANY,
    BAMBOOHR_BASE_URL: bamboo.url,
    LOG_LEVEL: 'DEBUG',
  });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  if (runtime) removeDataDir(runtime.dataDir);
  await sandbox?.close();
  await bamboo?.close();
});

/** A request with exactly these headers; its answer is kept for the final search. */
async function call(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  answers.push(`${method} ${path} → ${response.status} ${text}`);
  return { status: response.status, text };
}

const json = { 'content-type': 'application/json' };
const byToken = (token: string) => ({ ...json, authorization: `Bearer ${token}` });

async function ended(id: string): Promise<Record<string, unknown>> {
  const view = await waitFor(`${id} to end`, async () => {
    const { json: event } = await api(runtime, 'GET', `/events/${id}`);
    return ['succeeded', 'superseded', 'failed'].includes(event.status as string) ? event : undefined;
  });
  answers.push(`GET /events/${id} → ${JSON.stringify(view)}`);
  return view;
}

const created = (id: string) =>
  JSON.stringify({
    employees: [
      { id, action: 'Created', timestamp: '2026-11-29T08:59:00+00:00', changedFields: [], fields: {} },
    ],
  });

describe('no configured secret in any log line or error body', () => {
  it('a hire, by token and by signature, succeeds', async () => {
    const body = JSON.stringify(hireEvent('sl-1', 'sl.one@example.com'));
    expect((await call('POST', '/events', byToken(TEST_TOKEN), body)).status).toBe(202);
    const signedBody = JSON.stringify(hireEvent('sl-2', 'sl.two@example.com'));
    expect(
      (await call('POST', '/events', { ...json, ...signed(signedBody, WEBHOOK_SECRET) }, signedBody)).status,
    ).toBe(202);

    expect(await ended('sl-1')).toMatchObject({ status: 'succeeded' });
    expect(await ended('sl-2')).toMatchObject({ status: 'succeeded' });
  });

  it('a 401 from TrueFoundry: the event fails (after one re-read of the key), its error names no key', async () => {
    sandbox.setApiKey(`rotated-${randomBytes(8).toString('hex')}`);
    try {
      const body = JSON.stringify(hireEvent('sl-3', 'sl.three@example.com'));
      expect((await call('POST', '/events', byToken(TEST_TOKEN), body)).status).toBe(202);
      const view = await ended('sl-3');

      expect(view.status).toBe('failed');
      expect(JSON.stringify(view)).toMatch(/401/);
      const dlq = await api(runtime, 'GET', '/dlq');
      answers.push(`GET /dlq → ${JSON.stringify(dlq.json)}`);
    } finally {
      sandbox.setApiKey(TFY_API_KEY);
    }
  });

  it('bad tokens → 401, the other secrets sent as the token among them', async () => {
    const tokens = [
      'not-the-token-at-all',
      `${TEST_TOKEN}x`,
      TEST_TOKEN.slice(0, -1),
      TFY_API_KEY,
      WEBHOOK_SECRET,
      BAMBOOHR_WEBHOOK_KEY,
      BAMBOOHR_API_KEY,
    ];
    for (const token of tokens) {
      const body = JSON.stringify(hireEvent('sl-bad', 'sl.bad@example.com'));
      expect((await call('POST', '/events', byToken(token), body)).status).toBe(401);
      expect((await call('GET', '/events', { authorization: `Bearer ${token}` })).status).toBe(401);
    }
  });

  it('failing webhooks: forged signatures → 401; BambooHR down → 503; BambooHR refusing the key → skipped', async () => {
    const body = JSON.stringify(hireEvent('sl-wh', 'sl.wh@example.com'));
    const forged = signed(body, `whsec_${Buffer.from(randomBytes(24)).toString('base64')}`);
    expect((await call('POST', '/events', { ...json, ...forged }, body)).status).toBe(401);
    const stale = signed(body, WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 3600);
    expect((await call('POST', '/events', { ...json, ...stale }, body)).status).toBe(401);

    const delivery = created('9001');
    const wrongKey = bamboohrSigned(delivery, 'a-key-bamboohr-never-issued');
    expect((await call('POST', '/webhooks/bamboohr', { ...json, ...wrongKey }, delivery)).status).toBe(401);
    const down = await call(
      'POST',
      '/webhooks/bamboohr',
      { ...json, ...bamboohrSigned(delivery, BAMBOOHR_WEBHOOK_KEY) },
      delivery,
    );
    expect(down.status).toBe(503);

    const refusing = created('9002');
    const skipped = await call(
      'POST',
      '/webhooks/bamboohr',
      { ...json, ...bamboohrSigned(refusing, BAMBOOHR_WEBHOOK_KEY) },
      refusing,
    );
    expect(skipped.status).toBe(202);
    expect(JSON.parse(skipped.text).skipped).toEqual([
      { employeeId: '9002', reason: expect.stringMatching(/401/) },
    ]);
    // The lookups did reach BambooHR, with the key.
    expect(bamboo.requests().map((r) => r.path)).toEqual([
      `/api/gateway.php/${COMPANY}/v1/employees/9001`,
      `/api/gateway.php/${COMPANY}/v1/employees/9002`,
    ]);
  });

  it('none of the secrets is in what the runtime wrote, or in any answer it gave', () => {
    const output = runtime.output();
    // The search is not vacuous: the runtime logged the requests and the failure, and a secret is found
    // where it is.
    expect(output).toMatch(/"level":"INFO","message":"ingest request"/);
    expect(output).toMatch(/"level":"ERROR","message":"event failed"/);
    expect(secretsIn(`x ${TFY_API_KEY.slice(5, 5 + WINDOW)} x`)).toEqual(['TFY_API_KEY']);
    expect(
      secretsIn(`Authorization: Basic ${Buffer.from(`${BAMBOOHR_API_KEY}:x`).toString('base64')}`),
    ).toEqual(['BAMBOOHR_API_KEY']);

    expect(secretsIn(output)).toEqual([]);
    const leaking = answers.filter((answer) => secretsIn(answer).length > 0);
    expect(leaking).toEqual([]);
    expect(answers.length).toBeGreaterThan(20);
  });
});
