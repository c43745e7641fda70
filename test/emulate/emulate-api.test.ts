import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INGEST_ROUTES } from '../../lib/ingest-api';
import { api, type RuntimeProcess, removeDataDir, startEmulatorProcess } from '../support/runtime-process';
import { hire, hrProvisioning, settled } from './emulate-harness';

/*
 * `npm run emulate` as a child process in sandbox mode: the synthesized bundles behind the emulated API
 * Gateway, SQS event source, DynamoDB and Secrets Manager, with npm start's contract (banner, routes, token).
 */

let emulator: RuntimeProcess;

beforeAll(async () => {
  emulator = await startEmulatorProcess({});
}, 200_000);

afterAll(async () => {
  if (!emulator) return;
  await emulator.stop();
  removeDataDir(emulator.dataDir);
});

describe('npm run emulate, in sandbox mode', () => {
  it('answers GET /healthz once it is up, at the root and under the stage', async () => {
    const root = await fetch(`${emulator.url}/healthz`);
    expect(root.status).toBe(200);
    expect(await root.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${emulator.url}/v1/healthz`)).status).toBe(200);
  });

  it('serves the routes of INGEST_ROUTES: IAM ones refused at the gateway unsigned, the others reach the function', async () => {
    for (const route of INGEST_ROUTES) {
      const answer = await fetch(`${emulator.url}${route.path.replace('{id}', 'some-id')}`, {
        method: route.method,
        ...(route.method === 'POST' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}),
      });
      const refusedByGateway =
        answer.headers.get('x-amzn-errortype') === 'MissingAuthenticationTokenException';
      expect({ route: `${route.method} ${route.path}`, refusedByGateway }).toEqual({
        route: `${route.method} ${route.path}`,
        refusedByGateway: route.iam,
      });
    }
  });

  it('takes a hire through POST /events to succeeded, and the sandbox has the user', async () => {
    const posted = await api(
      emulator,
      'POST',
      '/events',
      hire('emu-hire-1', 'E-EMU-1', 'emu.ada@example.com'),
    );
    expect(posted).toMatchObject({ status: 202, json: { events: [{ id: 'emu-hire-1', status: 'queued' }] } });
    const view = await settled(emulator, 'emu-hire-1');
    expect(view).toMatchObject({ status: 'succeeded', person: 'id:E-EMU-1', attempts: 1 });

    const sandboxUrl = /built-in sandbox at (http:\/\/\S+)/.exec(emulator.output())?.[1];
    expect(sandboxUrl).toBeDefined();
    const users = (await (await fetch(`${sandboxUrl}/__sandbox/users`)).json()) as { email: string }[];
    expect(users.map((u) => u.email)).toContain('emu.ada@example.com');
  });

  it('lets only callers with the ingest token through the IAM routes (the stand-in for SigV4)', async () => {
    const unsigned = await fetch(`${emulator.url}/events`);
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toEqual({ message: 'Missing Authentication Token' });
    const wrong = await fetch(`${emulator.url}/events/emu-hire-1`, {
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(403);

    const listed = await api(emulator, 'GET', '/events?status=succeeded');
    expect(listed.status).toBe(200);
    expect((listed.json.events as { id: string }[]).map((e) => e.id)).toContain('emu-hire-1');
  });

  it('answers a route the API does not have as API Gateway does', async () => {
    const missing = await fetch(`${emulator.url}/nowhere`, { method: 'POST', body: '{}' });
    expect(missing.status).toBe(403);
    expect(missing.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect((await fetch(`${emulator.url}/healthz`, { method: 'DELETE' })).status).toBe(403);
  });

  it('refuses POST /events without credentials in the ingest function (401), not at the gateway', async () => {
    const refused = await fetch(`${emulator.url}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(hire('emu-anon', 'E-ANON', 'anon@example.com')),
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-amzn-requestid')).toBeTruthy();
  });

  it('works with the operator CLI: status through the API, dlq list through the emulated SQS', async () => {
    const status = await hrProvisioning(emulator, ['status', 'emu-hire-1']);
    expect(status, status.stderr).toMatchObject({ code: 0 });
    expect(status.stdout).toContain('emu-hire-1: succeeded');
    const dlq = await hrProvisioning(emulator, ['dlq', 'list']);
    expect(dlq, dlq.stderr).toMatchObject({ code: 0 });
    expect(dlq.stdout).toContain('the dead-letter queue is empty');
  });

  it('stops cleanly on SIGTERM', async () => {
    expect(emulator.output()).not.toContain('Cannot start');
    expect(await emulator.stop()).toBe(0);
    expect(emulator.output()).toContain('SIGTERM');
  });
});
