import { describe, expect, it } from 'vitest';
import { EVENT_STATUSES, type StepRecord } from '../../functions/core/engine/ports';
import { parseCanonicalEvent } from '../../functions/core/events/canonical-event';
import {
  bearer,
  hireEvent,
  INGEST_TOKEN,
  ingestFor,
  jsonRequest,
  signed,
  WEBHOOK_SECRET,
} from '../support/ingest-harness';
import { expectNoSecretsInResponses } from './ingest-assertions';

expectNoSecretsInResponses();

const get = (
  path: string,
  headers: Record<string, string> = bearer(),
  query: Record<string, string> = {},
) => ({
  method: 'GET',
  path,
  query,
  headers,
});

const step: StepRecord = {
  key: 'invite',
  action: 'invite ada@example.com',
  outcome: 'failed',
  httpStatus: 422,
  httpAttempts: 1,
  attempt: 1,
  startedAt: '2026-11-29T09:00:02Z',
  durationMs: 35,
  error: 'TrueFoundry 422: invalid role',
};

/** Accepts the events through POST /events, then lets the "worker" fail `failedId`. */
async function withEvents(ids: string[], failedId?: string) {
  const ingest = ingestFor();
  const response = await ingest.call(
    jsonRequest(
      '/events',
      ids.map((id, i) => hireEvent(id, `p${i}@example.com`)),
    ),
  );
  expect(response.status).toBe(202);
  if (failedId) {
    const record = await ingest.store.get(failedId);
    if (!record) throw new Error(`${failedId} was not recorded`);
    await ingest.store.startAttempt(record.event, '2026-11-29T09:00:01Z');
    await ingest.store.addStep(failedId, step);
    await ingest.store.finish(failedId, {
      status: 'failed',
      at: '2026-11-29T09:00:03Z',
      error: 'permanent: TrueFoundry 422: invalid role',
    });
  }
  return ingest;
}

describe('GET /events/{id}', () => {
  it('shows an accepted event: top-level status, no steps yet, no error', async () => {
    const ingest = await withEvents(['evt-1']);
    const response = await ingest.call(get('/events/evt-1'));

    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({
      id: 'evt-1',
      status: 'queued',
      type: 'hire',
      employee: { id: 'E-evt-1', email: 'p0@example.com' },
      source: 'token',
      attempts: 0,
      steps: [],
    });
    expect(response.json).not.toHaveProperty('error');
  });

  it('shows a failed event with its steps and its error', async () => {
    const ingest = await withEvents(['evt-1'], 'evt-1');
    const response = await ingest.call(get('/events/evt-1'));

    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({
      id: 'evt-1',
      status: 'failed',
      attempts: 1,
      steps: [step],
      error: 'permanent: TrueFoundry 422: invalid role',
    });
  });

  it('finds an id that needs percent-encoding in the path', async () => {
    const ingest = ingestFor();
    await ingest.call(jsonRequest('/events', hireEvent('hr/2026#7')));
    const response = await ingest.call(get(`/events/${encodeURIComponent('hr/2026#7')}`));

    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ id: 'hr/2026#7', status: 'queued' });
  });

  it('an id never accepted → 404', async () => {
    const ingest = await withEvents(['evt-1']);
    const response = await ingest.call(get('/events/evt-2'));

    expect(response.status).toBe(404);
    expect(response.json).toEqual({
      error: 'not_found',
      message: 'no event with id "evt-2" was ever accepted',
    });
  });

  it('an id whose submission was rejected as invalid → 404', async () => {
    const ingest = ingestFor();
    const rejected = await ingest.call(jsonRequest('/events', hireEvent('evt-bad', 'not-an-email')));
    expect(rejected.status).toBe(400);

    expect((await ingest.call(get('/events/evt-bad'))).status).toBe(404);
  });

  it('a path that is not valid percent-encoding → 400, not a server error', async () => {
    const ingest = await withEvents(['evt-1']);
    const response = await ingest.call(get('/events/evt-%E0%A4%A'));

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: 'invalid_path' });
  });

  it('requires credentials: none or a wrong token → 401', async () => {
    const ingest = await withEvents(['evt-1']);
    const none = await ingest.call(get('/events/evt-1', {}));
    const wrong = await ingest.call(get('/events/evt-1', bearer('guess')));

    for (const response of [none, wrong]) {
      expect(response.status).toBe(401);
      expect(response.json).toMatchObject({ error: 'unauthorized' });
      expect(response.body).not.toContain('evt-1');
    }
  });

  it('accepts the token or the gateway, never a signature (it authorises only the signed ingest routes)', async () => {
    const ingest = await withEvents(['evt-1']);
    const byToken = await ingest.call(get('/events/evt-1', bearer(INGEST_TOKEN)));
    const bySignature = await ingest.call(get('/events/evt-1', signed('', WEBHOOK_SECRET)));
    const byGateway = await ingest.call({ ...get('/events/evt-1', {}), gatewayAuthorized: true });

    expect([byToken.status, bySignature.status, byGateway.status]).toEqual([200, 401, 200]);
    expect(byToken.json).toMatchObject({ id: 'evt-1', status: 'queued' });
    expect(bySignature.json).toEqual({
      error: 'unauthorized',
      message: expect.stringMatching(
        /webhook signature authorises only .*POST \/events.*not GET \/events\/evt-1/,
      ),
    });
  });
});

describe('GET /events', () => {
  it('?status=failed lists the failed events only', async () => {
    const ingest = await withEvents(['evt-1', 'evt-2', 'evt-3'], 'evt-2');
    const response = await ingest.call(get('/events', bearer(), { status: 'failed' }));

    expect(response.status).toBe(200);
    const events = response.json.events as { id: string; status: string; error?: string }[];
    expect(events.map((e) => [e.id, e.status, e.error])).toEqual([
      ['evt-2', 'failed', 'permanent: TrueFoundry 422: invalid role'],
    ]);
    expect(response.json.cursor).toBeUndefined();
  });

  it('without a status lists every event; limit and cursor page through them', async () => {
    const ingest = await withEvents(['evt-1', 'evt-2', 'evt-3'], 'evt-2');
    const first = await ingest.call(get('/events', bearer(), { limit: '2' }));
    const idsOf = (json: Record<string, unknown>) => (json.events as { id: string }[]).map((e) => e.id);

    expect(idsOf(first.json)).toEqual(['evt-1', 'evt-2']);
    expect(first.json.cursor).toEqual(expect.any(String));
    const second = await ingest.call(
      get('/events', bearer(), { limit: '2', cursor: String(first.json.cursor) }),
    );
    expect(idsOf(second.json)).toEqual(['evt-3']);
    expect(second.json.cursor).toBeUndefined();
  });

  it('an unknown status → 400 listing the statuses', async () => {
    const ingest = await withEvents(['evt-1']);
    const response = await ingest.call(get('/events', bearer(), { status: 'broken' }));

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: 'invalid_query', allowed: [...EVENT_STATUSES] });
  });

  it.each(['0', '501', '2.5', 'ten', ''])('limit=%s → 400', async (limit) => {
    const ingest = await withEvents(['evt-1']);
    const response = await ingest.call(get('/events', bearer(), { limit }));

    expect(response.status).toBe(400);
    expect(response.json.message).toMatch(/limit must be a whole number from 1 to 500/);
  });

  it('requires credentials', async () => {
    const ingest = await withEvents(['evt-1'], 'evt-1');
    const response = await ingest.call(get('/events', {}, { status: 'failed' }));

    expect(response.status).toBe(401);
    expect(response.body).not.toContain('evt-1');
  });

  it('lists an event recorded under any source', async () => {
    const ingest = ingestFor();
    const parsed = parseCanonicalEvent(hireEvent('evt-r'));
    if (!parsed.ok) throw new Error('invalid test event');
    await ingest.store.accept(parsed.event, { source: 'redrive', at: '2026-11-29T09:00:00Z', sequence: 1 });
    const response = await ingest.call(get('/events', bearer(), { status: 'queued' }));

    expect(response.json.events).toEqual([expect.objectContaining({ id: 'evt-r', source: 'redrive' })]);
  });
});
