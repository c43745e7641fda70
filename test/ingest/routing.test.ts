import { describe, expect, it } from 'vitest';
import type { Log } from '../../functions/core/engine/ports';
import { bearer, hireEvent, ingestFor, jsonRequest } from '../support/ingest-harness';
import { expectNoSecretsInResponses, expectNothingRecorded } from './ingest-assertions';

expectNoSecretsInResponses();

describe('routing', () => {
  it('GET /healthz answers without credentials', async () => {
    const ingest = ingestFor();
    const response = await ingest.call({ method: 'GET', path: '/healthz' });

    expect(response.status).toBe(200);
    expect(response.json).toEqual({ status: 'ok' });
  });

  it.each([
    ['GET', '/'],
    ['GET', '/nope'],
    ['POST', '/event'],
    ['GET', '/events/a/b'],
    ['POST', '/webhooks/workday'],
    ['GET', '/healthz/'],
  ])('%s %s → 404', async (method, path) => {
    const ingest = ingestFor();
    const response = await ingest.call({ method, path, headers: bearer() });

    expect(response.status).toBe(404);
    expect(response.json).toEqual({ error: 'not_found', message: `no route ${method} ${path}` });
  });

  it.each([
    ['DELETE', '/events', 'POST, GET'],
    ['PUT', '/events', 'POST, GET'],
    ['POST', '/events/evt-1', 'GET, DELETE'],
    ['PUT', '/events/evt-1', 'GET, DELETE'],
    ['GET', '/batch', 'POST'],
    ['GET', '/webhooks/bamboohr', 'POST'],
    ['POST', '/healthz', 'GET'],
  ])('%s %s → 405 with Allow: %s', async (method, path, allow) => {
    const ingest = ingestFor();
    const response = await ingest.call({ ...jsonRequest(path, hireEvent()), method });

    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe(allow);
    expect(response.json).toMatchObject({ error: 'method_not_allowed', allowed: allow.split(', ') });
    await expectNothingRecorded(ingest);
  });

  it('answers JSON that is never cached', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(jsonRequest('/events', hireEvent()));

    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('logs each request with its status, and an unexpected failure without its details in the answer', async () => {
    const lines: { level: string; message: string; attributes?: Record<string, unknown> }[] = [];
    const log: Log = {
      debug: (message, attributes) =>
        lines.push({ level: 'debug', message, ...(attributes ? { attributes } : {}) }),
      info: (message, attributes) =>
        lines.push({ level: 'info', message, ...(attributes ? { attributes } : {}) }),
      warn: (message, attributes) =>
        lines.push({ level: 'warn', message, ...(attributes ? { attributes } : {}) }),
      error: (message, attributes) =>
        lines.push({ level: 'error', message, ...(attributes ? { attributes } : {}) }),
    };
    const ingest = ingestFor({
      log,
      credentials: async () => {
        throw new Error('secrets manager unreachable');
      },
    });
    const response = await ingest.call(jsonRequest('/events', hireEvent()));

    expect(response.status).toBe(500);
    expect(response.body).not.toContain('secrets manager');
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'ingest request failed' }),
    );
    expect(lines).toContainEqual({
      level: 'info',
      message: 'ingest request',
      attributes: expect.objectContaining({ method: 'POST', path: '/events', status: 500 }),
    });
    await expectNothingRecorded(ingest);
  });
});
