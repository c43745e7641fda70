import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BambooHrApiError, type BambooHrDirectory } from '../../functions/core/ingest/bamboohr/directory';
import {
  BAMBOOHR_KEY,
  bamboohrSigned,
  bearer,
  INGEST_TOKEN,
  ingestFor,
  jsonRequest,
  signed,
  WEBHOOK_SECRET,
} from '../support/ingest-harness';
import { expectNoSecretsInResponses, expectNothingRecorded, sentIds } from './ingest-assertions';

expectNoSecretsInResponses();

const sampleWebhook = readFileSync(
  new URL('../../samples/bamboohr-global-webhook.json', import.meta.url),
  'utf8',
);
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Employee 4023, who the sample's Created entry names without fields, as BambooHR's API knows them. */
const alan = {
  'Employee #': 'E1003',
  'Work Email': 'Alan.Turing@Example.com',
  'First Name': 'Alan',
  'Last Name': 'Turing',
  'Job Title': 'Research Engineer',
  Department: 'ML Platform',
  Status: 'Active',
};

function directoryOf(
  employees: Record<string, Record<string, string>>,
  failWith?: Error,
): BambooHrDirectory & { lookedUp: string[] } {
  const lookedUp: string[] = [];
  return {
    lookedUp,
    async getEmployee(id) {
      lookedUp.push(id);
      if (failWith) throw failWith;
      return employees[id];
    },
  };
}

/** POST /webhooks/bamboohr with the raw body, signed with the key at the time unless headers are given. */
const deliver = (body: string, headers: Record<string, string> = bamboohrSigned(body)) =>
  jsonRequest('/webhooks/bamboohr', body, headers);

type Sent = { type: string; employee: Record<string, string> };

describe('POST /webhooks/bamboohr', () => {
  it('maps the sample delivery, looking up the Created employee, and enqueues one event per entry', async () => {
    const directory = directoryOf({ '4023': alan });
    const ingest = ingestFor({ bamboohr: { directory } });
    const response = await ingest.call(deliver(sampleWebhook));

    expect(response.status).toBe(202);
    expect(response.json).toEqual({
      events: [
        { id: expect.stringMatching(/^bamboohr-4021-updated-[0-9a-f]{16}$/), status: 'queued' },
        { id: expect.stringMatching(/^bamboohr-4022-updated-[0-9a-f]{16}$/), status: 'queued' },
        { id: expect.stringMatching(/^bamboohr-4023-created-[0-9a-f]{16}$/), status: 'queued' },
      ],
      cancelled: [],
      skipped: [],
    });
    expect(directory.lookedUp).toEqual(['4023']);
    expect(ingest.queue.sent.map((m) => m.groupId)).toEqual(['id:E1001', 'id:E1002', 'id:E1003']);
    const bodies = ingest.queue.sent.map((m) => JSON.parse(m.body) as Sent);
    expect(bodies.map((b) => b.type)).toEqual(['role_change', 'offboard', 'hire']);
    expect(bodies[2]?.employee).toMatchObject({
      id: 'E1003',
      email: 'alan.turing@example.com',
      name: 'Alan Turing',
      department: 'ML Platform',
      title: 'Research Engineer',
    });
    expect(ingest.queue.sent.map((m) => m.deduplicationId)).toEqual(ingest.queue.sent.map((m) => m.eventId));
    const [first] = ingest.queue.sent;
    expect(await ingest.store.get(first?.eventId ?? '')).toMatchObject({
      source: 'bamboohr',
      enqueued: true,
      occurredAt: '2026-11-28T16:33:28.000Z',
    });
  });

  it('without a directory, skips the Created entry with what to configure and accepts the rest', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(deliver(sampleWebhook));

    expect(response.status).toBe(202);
    expect(response.json.events).toHaveLength(2);
    expect(response.json.skipped).toEqual([
      { employeeId: '4023', reason: expect.stringMatching(/configure the BambooHR API/) },
    ]);
    expect(ingest.queue.sent).toHaveLength(2);
  });

  it('a redelivery yields the same ids, answered as duplicates and not enqueued again', async () => {
    const ingest = ingestFor({ bamboohr: { directory: directoryOf({ '4023': alan }) } });
    const first = await ingest.call(deliver(sampleWebhook));
    const again = await ingest.call(deliver(sampleWebhook));

    expect(again.status).toBe(202);
    const ids = (first.json.events as { id: string }[]).map((e) => e.id);
    expect(again.json.events).toEqual(ids.map((id) => ({ id, status: 'queued', duplicate: true })));
    expect(sentIds(ingest.queue)).toEqual(ids);
  });

  it('a delivery in which nothing relevant changed answers 202 with every entry skipped', async () => {
    const ingest = ingestFor();
    const body = JSON.stringify({
      employees: [
        {
          id: '4021',
          action: 'Updated',
          changedFields: ['Location'],
          fields: { 'Work Email': 'ada.lovelace@example.com', Location: 'Paris' },
        },
      ],
    });
    const response = await ingest.call(deliver(body));

    expect(response.status).toBe(202);
    expect(response.json).toEqual({
      events: [],
      cancelled: [],
      skipped: [{ employeeId: '4021', reason: expect.stringMatching(/no field that drives provisioning/) }],
    });
    await expectNothingRecorded(ingest);
  });

  it('checks freshness against the injected clock', async () => {
    const now = Date.parse('2026-11-28T16:41:00Z');
    const ingest = ingestFor({ now: () => now, bamboohr: { directory: directoryOf({ '4023': alan }) } });
    const response = await ingest.call(
      deliver(sampleWebhook, bamboohrSigned(sampleWebhook, BAMBOOHR_KEY, now / 1000 - 60)),
    );

    expect(response.status).toBe(202);
    expect(ingest.queue.sent).toHaveLength(3);
  });

  it('a directory error that may heal → 503 so BambooHR redelivers; nothing recorded', async () => {
    const unavailable = new BambooHrApiError(
      'BambooHR GET employee "4023" failed: 503 Server Error',
      'http',
      503,
    );
    const ingest = ingestFor({ bamboohr: { directory: directoryOf({}, unavailable) } });
    const response = await ingest.call(deliver(sampleWebhook));

    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('30');
    expect(response.json).toMatchObject({ error: 'bamboohr_unavailable' });
    await expectNothingRecorded(ingest);
  });

  it('a directory error that will not heal skips that entry and accepts the others', async () => {
    const forbidden = new BambooHrApiError('BambooHR GET employee "4023" failed: 403 Forbidden', 'http', 403);
    const ingest = ingestFor({ bamboohr: { directory: directoryOf({}, forbidden) } });
    const response = await ingest.call(deliver(sampleWebhook));

    expect(response.status).toBe(202);
    expect(response.json.skipped).toEqual([
      { employeeId: '4023', reason: expect.stringMatching(/403 Forbidden/) },
    ]);
    expect(ingest.queue.sent).toHaveLength(2);
  });

  it('the queue refusing → 503; the redelivery enqueues each event exactly once', async () => {
    const ingest = ingestFor({ bamboohr: { directory: directoryOf({ '4023': alan }) } });
    ingest.queue.refuse = true;
    const refused = await ingest.call(deliver(sampleWebhook));

    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(ingest.queue.sent).toEqual([]);
    expect((await ingest.store.list({ limit: 10 })).records.map((r) => r.enqueued)).toEqual([
      false,
      false,
      false,
    ]);

    ingest.queue.refuse = false;
    const retry = await ingest.call(deliver(sampleWebhook));
    expect(retry.status).toBe(202);
    expect(ingest.queue.sent).toHaveLength(3);
    expect(new Set(sentIds(ingest.queue)).size).toBe(3);
  });
});

describe('POST /webhooks/bamboohr: bad deliveries are refused and leave no trace', () => {
  async function expectUnauthorized(
    ingest: ReturnType<typeof ingestFor>,
    request: ReturnType<typeof deliver>,
    reason: RegExp,
  ) {
    const response = await ingest.call(request);
    expect(response.status).toBe(401);
    expect(response.json).toMatchObject({ error: 'unauthorized' });
    expect(response.json.message).toMatch(reason);
    await expectNothingRecorded(ingest);
  }

  it('no signature → 401', async () => {
    const ingest = ingestFor();
    await expectUnauthorized(ingest, deliver(sampleWebhook, {}), /missing X-BambooHR-Signature/);
  });

  it('a signature made with another key → 401', async () => {
    const ingest = ingestFor();
    await expectUnauthorized(
      ingest,
      deliver(sampleWebhook, bamboohrSigned(sampleWebhook, 'other-key')),
      /does not match/,
    );
  });

  it('a tampered body → 401', async () => {
    const ingest = ingestFor();
    const headers = bamboohrSigned(sampleWebhook);
    const tampered = sampleWebhook.replace('grace.hopper@example.com', 'mallory@example.com');
    await expectUnauthorized(ingest, deliver(tampered, headers), /does not match/);
  });

  it('a timestamp older than five minutes (replay) → 401', async () => {
    const ingest = ingestFor();
    const stale = bamboohrSigned(sampleWebhook, BAMBOOHR_KEY, nowSeconds() - 6 * 60);
    await expectUnauthorized(ingest, deliver(sampleWebhook, stale), /too old/);
  });

  it('a timestamp six minutes in the future → 401', async () => {
    const ingest = ingestFor();
    const future = bamboohrSigned(sampleWebhook, BAMBOOHR_KEY, nowSeconds() + 6 * 60);
    await expectUnauthorized(ingest, deliver(sampleWebhook, future), /in the future/);
  });

  it('the signature moved to another timestamp → 401', async () => {
    const ingest = ingestFor();
    const headers = bamboohrSigned(sampleWebhook);
    const moved = { ...headers, 'x-bamboohr-timestamp': String(Number(headers['x-bamboohr-timestamp']) - 1) };
    await expectUnauthorized(ingest, deliver(sampleWebhook, moved), /does not match/);
  });

  it('the ingest token or a Standard Webhooks signature do not stand in for the BambooHR signature', async () => {
    const ingest = ingestFor();
    await expectUnauthorized(
      ingest,
      deliver(sampleWebhook, bearer(INGEST_TOKEN)),
      /missing X-BambooHR-Signature/,
    );
    await expectUnauthorized(
      ingest,
      deliver(sampleWebhook, signed(sampleWebhook, WEBHOOK_SECRET)),
      /missing X-BambooHR-Signature/,
    );
  });

  it('no BambooHR key configured → 401 for every delivery', async () => {
    const ingest = ingestFor({ credentials: async () => ({ ingestToken: INGEST_TOKEN }) });
    await expectUnauthorized(ingest, deliver(sampleWebhook), /not configured/);
  });

  it('malformed JSON, correctly signed → 400 with line and column', async () => {
    const ingest = ingestFor();
    const body = '{"employees": [\n  {"id": "4021",, }\n]}';
    const response = await ingest.call(deliver(body));

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: 'malformed_json' });
    expect(response.json.message).toMatch(/line 2, column \d+/);
    await expectNothingRecorded(ingest);
  });

  it('JSON that is not a webhook payload → 400 naming the fields', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(deliver(JSON.stringify({ employees: [{ action: 'Hired' }] })));

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: 'invalid_webhook' });
    const paths = (response.json.issues as { path: string }[]).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['employees.0.id', 'employees.0.action']));
    await expectNothingRecorded(ingest);
  });

  it('an unsupported content type → 415', async () => {
    const ingest = ingestFor();
    const request = deliver(sampleWebhook);
    const response = await ingest.call({
      ...request,
      headers: { ...request.headers, 'content-type': 'text/plain' },
    });

    expect(response.status).toBe(415);
    await expectNothingRecorded(ingest);
  });

  it('a body over 1 MiB → 413', async () => {
    const ingest = ingestFor();
    const body = sampleWebhook.padEnd(1024 * 1024 + 1, ' ');
    const response = await ingest.call(deliver(body));

    expect(response.status).toBe(413);
    await expectNothingRecorded(ingest);
  });
});
