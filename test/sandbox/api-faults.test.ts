import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  type ErrorBody,
  type ListUsersResponse,
  REGISTER_PATH,
  ROLES_PATH,
  USERS_PATH,
  userPath,
} from '../../functions/core/truefoundry/api-contract';
import { type Sandbox, startSandbox } from '../../sandbox';
import { call, register } from './http';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ seed: 1 });
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.reset());

const timed = async <T>(action: () => Promise<T>): Promise<number> => {
  const started = performance.now();
  await action();
  return performance.now() - started;
};

const list = () => call<ListUsersResponse>(sandbox, 'GET', USERS_PATH);

/**
 * A latency longer than any test may run. Whether a request was held is told by whether it is answered at
 * all, not by a stopwatch: a held one outlasts the test's timeout, however loaded the machine.
 */
const LONGER_THAN_ANY_TEST_MS = 10 * 60_000;

/** Resolves to the network error fetch raised, or fails the test when an answer came back. */
const networkError = async (request: Promise<unknown>): Promise<Error> => {
  const error = await request.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(TypeError);
  return error as Error;
};

describe('latency', () => {
  it('adds a fixed latency to every API request', async () => {
    sandbox.setFaults({ latencyMs: 150 });
    expect(await timed(list)).toBeGreaterThanOrEqual(145);
    sandbox.setFaults({ latencyMs: LONGER_THAN_ANY_TEST_MS });
    sandbox.setFaults({});
    // Answered at all: clearing the faults took even that latency away.
    expect((await list()).status).toBe(200);
  });

  it('adds a latency drawn from a range', async () => {
    sandbox.setFaults({ latencyMs: { min: 80, max: 120 } });
    const elapsed = await Promise.all([timed(list), timed(list), timed(list)]);
    for (const ms of elapsed) expect(ms).toBeGreaterThanOrEqual(75);
  });

  it('never delays the observation routes', async () => {
    sandbox.setFaults({ latencyMs: LONGER_THAN_ANY_TEST_MS });
    expect((await fetch(`${sandbox.url}/__sandbox/users`)).status).toBe(200);
  });
});

describe('rate limit', () => {
  /**
   * The bucket refills on the sandbox's clock, performance.now(): stood still for the test, and moved on by
   * hand, so a slow machine can neither refill it early nor keep it empty.
   */
  const standStillTheBucketClock = () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
  };

  it('answers 429 with Retry-After once the bucket is empty, before auth and without effect, then refills', async () => {
    standStillTheBucketClock();
    sandbox.setFaults({ rateLimit: { rps: 4, burst: 3, retryAfterSeconds: 2 } });
    const statuses = [];
    for (let attempt = 0; attempt < 3; attempt += 1) statuses.push((await list()).status);
    const limited = await register(sandbox, 'ann@x.com');
    const wrongKey = await call(sandbox, 'GET', USERS_PATH, { apiKey: 'wrong' });
    expect(statuses).toEqual([200, 200, 200]);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    expect(wrongKey.status).toBe(429);
    expect(sandbox.users()).toEqual([]);

    vi.advanceTimersByTime(300);
    expect((await register(sandbox, 'ann@x.com')).status).toBe(200);
    expect(sandbox.calls().map((record) => record.status)).toEqual([200, 200, 200, 429, 429, 200]);
  });

  it('defaults Retry-After to 1 second', async () => {
    standStillTheBucketClock();
    sandbox.setFaults({ rateLimit: { rps: 1 } });
    await list();
    const limited = await list();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
  });
});

describe('random server errors', () => {
  const runWithSeed = async (seed: number) => {
    const seeded = await startSandbox({ seed, faults: { serverErrorRate: 0.5 } });
    try {
      const statuses = [];
      for (let index = 0; index < 40; index += 1) {
        const reply = await register(seeded, `user${index}@x.com`);
        if (reply.status >= 500)
          expect(reply.body).toMatchObject({ statusCode: reply.status, code: expect.any(String) });
        statuses.push(reply.status);
      }
      return { statuses, created: seeded.users().length };
    } finally {
      await seeded.close();
    }
  };

  it('fails a seeded share of requests with 500, 502 or 503, reproducibly and without effect', async () => {
    const first = await runWithSeed(42);
    const failures = first.statuses.filter((status) => status !== 200);
    expect(failures.length).toBeGreaterThan(8);
    expect(failures.length).toBeLessThan(32);
    expect(new Set(failures).size).toBeGreaterThan(1);
    for (const status of failures) expect([500, 502, 503]).toContain(status);
    expect(first.created).toBe(first.statuses.length - failures.length);
    expect((await runWithSeed(42)).statuses).toEqual(first.statuses);
    expect((await runWithSeed(43)).statuses).not.toEqual(first.statuses);
  });
});

describe('dropped connections', () => {
  it('destroys the socket without an answer, so fetch fails with a network error and nothing changes', async () => {
    sandbox.setFaults({ dropRate: 1 });
    const error = await networkError(register(sandbox, 'ann@x.com'));
    expect(error.message).toBe('fetch failed');
    expect(sandbox.users()).toEqual([]);
    expect(sandbox.calls()).toMatchObject([{ path: `/${REGISTER_PATH}`, status: 'dropped' }]);
    expect(sandbox.calls()[0]).not.toHaveProperty('effect');
  });

  it('drops about the configured share', async () => {
    sandbox.setFaults({ dropRate: 0.5 });
    const outcomes = [];
    for (let index = 0; index < 30; index += 1) {
      outcomes.push(
        await list().then(
          (reply) => reply.status,
          () => 'dropped' as const,
        ),
      );
    }
    const dropped = outcomes.filter((outcome) => outcome === 'dropped').length;
    expect(dropped).toBeGreaterThan(4);
    expect(dropped).toBeLessThan(26);
    expect(sandbox.calls().map((record) => record.status)).toEqual(outcomes);
  });
});

describe('visibility delay', () => {
  it('hides a new user from reads and writes until the delay passed, yet knows it exists', async () => {
    sandbox.setFaults({ visibilityDelayMs: 400 });
    expect((await register(sandbox, 'ann@x.com')).status).toBe(200);
    const id = sandbox.users()[0]!.id;
    expect((await list()).body.pagination.total).toBe(0);
    expect((await call(sandbox, 'GET', userPath(id))).status).toBe(404);
    const roles = { email: 'ann@x.com', roles: ['tenant-admin'] };
    expect((await call(sandbox, 'PATCH', ROLES_PATH, { body: roles })).status).toBe(404);
    expect((await register(sandbox, 'ann@x.com')).status).toBe(409);
    expect((await register(sandbox, 'ann@x.com', { skipIfUserExists: true })).status).toBe(200);

    // Until the sandbox's own clock passes the moment the user becomes visible.
    await vi.waitFor(
      () => expect(Date.parse(sandbox.users()[0]!.visibleAt)).toBeLessThanOrEqual(Date.now()),
      { timeout: 5_000, interval: 10 },
    );
    expect((await list()).body.data.map((user) => user.email)).toEqual(['ann@x.com']);
    expect((await call(sandbox, 'GET', userPath(id))).status).toBe(200);
    expect((await call(sandbox, 'PATCH', ROLES_PATH, { body: roles })).status).toBe(200);
    expect(sandbox.users()[0]!.roles).toEqual(['tenant-admin']);
  });

  it('leaves seeded users visible at once', async () => {
    sandbox.setFaults({ visibilityDelayMs: 60_000 });
    sandbox.seedUser({ email: 'old@x.com' });
    expect((await list()).body.pagination.total).toBe(1);
  });
});

describe('scripted faults', () => {
  const rolesBody = { email: 'ann@x.com', roles: ['tenant-admin'] };
  const patchRoles = () => call<ErrorBody>(sandbox, 'PATCH', ROLES_PATH, { body: rolesBody });

  it('answers the scripted status to matching requests only, as many times as asked, without effect', async () => {
    sandbox.seedUser({ email: 'ann@x.com' });
    sandbox.setFaults({
      scripted: [{ method: 'PATCH', path: `/${ROLES_PATH}`, status: 503, retryAfterSeconds: 7, times: 2 }],
    });
    expect((await list()).status).toBe(200);
    const first = await patchRoles();
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('7');
    expect(first.body).toMatchObject({
      statusCode: 503,
      code: expect.any(String),
      message: expect.any(String),
    });
    expect((await patchRoles()).status).toBe(503);
    expect(sandbox.users()[0]!.roles).toEqual(['tenant-member']);
    expect((await patchRoles()).status).toBe(200);
    expect(sandbox.users()[0]!.roles).toEqual(['tenant-admin']);
    expect(sandbox.calls().map((record) => [record.status, record.effect])).toEqual([
      [200, undefined],
      [503, undefined],
      [503, undefined],
      [200, 'roles-updated'],
    ]);
  });

  it('applies scripted faults in order and before auth', async () => {
    sandbox.setFaults({ scripted: [{ status: 502 }, { status: 429, retryAfterSeconds: 3 }] });
    expect((await call(sandbox, 'GET', USERS_PATH, { apiKey: 'wrong' })).status).toBe(502);
    const second = await list();
    expect([second.status, second.headers.get('retry-after')]).toEqual([429, '3']);
    expect((await list()).status).toBe(200);
  });

  it('drops a scripted request without effect', async () => {
    sandbox.setFaults({ scripted: [{ path: `/${REGISTER_PATH}`, drop: true }] });
    await networkError(register(sandbox, 'ann@x.com'));
    expect(sandbox.users()).toEqual([]);
    expect((await register(sandbox, 'ann@x.com')).status).toBe(200);
  });

  it('delays a scripted request, then handles it normally', async () => {
    sandbox.setFaults({ scripted: [{ path: `/${REGISTER_PATH}`, delayMs: 200 }] });
    expect(await timed(() => register(sandbox, 'ann@x.com'))).toBeGreaterThanOrEqual(195);
    expect(sandbox.users()).toHaveLength(1);
    // Only the request the script takes is held: while it holds one past the test's end, the next is answered.
    sandbox.setFaults({ scripted: [{ path: `/${REGISTER_PATH}`, delayMs: LONGER_THAN_ANY_TEST_MS }] });
    // Never answered: closing the sandbox after the last test ends it.
    void register(sandbox, 'cy@x.com').catch(() => undefined);
    await vi.waitFor(() => expect(sandbox.calls()).toHaveLength(2), { interval: 5 });
    expect((await register(sandbox, 'bob@x.com')).status).toBe(200);
    expect(sandbox.calls().map((record) => record.status)).toEqual([200, 0, 200]);
  });

  it('with afterEffect, performs the operation and still answers the scripted status', async () => {
    sandbox.setFaults({
      scripted: [{ method: 'POST', path: `/${REGISTER_PATH}`, status: 502, afterEffect: true }],
    });
    expect((await register(sandbox, 'ann@x.com')).status).toBe(502);
    expect(sandbox.users().map((user) => user.email)).toEqual(['ann@x.com']);
    // The retry a client would make now meets the user it created.
    expect((await register(sandbox, 'ann@x.com')).status).toBe(409);
    expect(sandbox.calls().map((record) => [record.status, record.effect])).toEqual([
      [502, 'created'],
      [409, undefined],
    ]);
  });

  it('with afterEffect and drop, performs the operation and loses the answer', async () => {
    sandbox.seedUser({ email: 'ann@x.com' });
    sandbox.setFaults({ scripted: [{ path: `/${ROLES_PATH}`, drop: true, afterEffect: true }] });
    await networkError(patchRoles());
    expect(sandbox.users()[0]!.roles).toEqual(['tenant-admin']);
    expect(sandbox.calls()).toMatchObject([{ status: 'dropped', effect: 'roles-updated' }]);
  });
});
