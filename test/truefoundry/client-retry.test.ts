import { describe, expect, it, vi } from 'vitest';
import {
  type AttemptRecord,
  TrueFoundryUsersClient,
  type TrueFoundryUsersClientOptions,
} from '../../functions/core/truefoundry/client';
import { TrueFoundryServerError } from '../../functions/core/truefoundry/errors';
import { RateLimiter } from '../../functions/core/truefoundry/rate-limiter';
import type { Sandbox } from '../../sandbox';
import { useSandbox } from '../support/sandbox';

const sandboxOf = useSandbox();
const fastRetry = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 2_000 };

function clientFor(sandbox: Sandbox, options: Partial<TrueFoundryUsersClientOptions> = {}) {
  return new TrueFoundryUsersClient({
    baseUrl: sandbox.url,
    apiKey: sandbox.apiKey,
    retry: fastRetry,
    ...options,
  });
}

const times = (sandbox: Sandbox) => sandbox.calls().map((c) => Date.parse(c.at));

describe('retries', () => {
  it('repeats a GET after a 5xx and reports each attempt', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ scripted: [{ status: 502 }] });
    const attempts: AttemptRecord[] = [];
    const page = await clientFor(sandbox).list({}, { onAttempt: (a) => attempts.push(a) });
    expect(page.data).toEqual([]);
    expect(sandbox.calls().map((c) => c.status)).toEqual([502, 200]);
    expect(attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 502],
      [2, 200],
    ]);
  });

  it('repeats the idempotent PATCHes (roles, activate, deactivate) after a dropped connection', async () => {
    const sandbox = sandboxOf();
    sandbox.seedUser({ email: 'ada@example.com' });
    sandbox.setFaults({
      scripted: [
        { method: 'PATCH', path: '/api/svc/v1/users/roles', drop: true },
        { method: 'PATCH', path: '/api/svc/v1/users/deactivate', drop: true },
      ],
    });
    const client = clientFor(sandbox, { retry: { ...fastRetry, maxAttempts: 2 } });
    await client.updateRoles({ email: 'ada@example.com', roles: ['tenant-admin'] });
    await client.deactivate({ email: 'ada@example.com' });
    expect(sandbox.calls().map((c) => `${c.path.split('/').pop()} ${c.status}`)).toEqual([
      'roles dropped',
      'roles 200',
      'deactivate dropped',
      'deactivate 200',
    ]);
  });

  it('never repeats a POST that creates: invite and register fail at once and the caller decides', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ scripted: [{ method: 'POST', status: 503, times: 2 }] });
    const client = clientFor(sandbox);
    await expect(
      client.invite({ email: 'ada@example.com', acceptInviteClientUrl: 'https://app.example.com' }),
    ).rejects.toBeInstanceOf(TrueFoundryServerError);
    await expect(client.preRegister({ email: 'ada@example.com' })).rejects.toBeInstanceOf(
      TrueFoundryServerError,
    );
    expect(sandbox.calls()).toHaveLength(2);
  });

  it('does not repeat permanent errors', async () => {
    const sandbox = sandboxOf();
    await expect(clientFor(sandbox).updateRoles({ email: 'nobody@example.com', roles: [] })).rejects.toThrow(
      /404/,
    );
    expect(sandbox.calls()).toHaveLength(1);
  });

  it('gives up after maxAttempts and throws the last error', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ scripted: [{ status: 500, times: 10 }] });
    await expect(clientFor(sandbox).list()).rejects.toBeInstanceOf(TrueFoundryServerError);
    expect(sandbox.calls()).toHaveLength(3);
  });

  it('honours Retry-After before the next attempt, for every caller sharing the limiter', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ scripted: [{ status: 429, retryAfterSeconds: 1 }] });
    const limiter = new RateLimiter({ requestsPerSecond: 1000 });
    let paused = false;
    const pacer = {
      acquire: (signal?: AbortSignal) => limiter.acquire(signal),
      pauseFor: (ms: number) => {
        paused = true;
        limiter.pauseFor(ms);
      },
    };
    const client = clientFor(sandbox, { rateLimiter: pacer });
    const first = client.list();
    // The other caller comes once the 429 has paused the limiter they share, however long that took.
    await vi.waitFor(() => expect(paused).toBe(true), { interval: 5 });
    const second = client.list({ limit: 5 });
    await Promise.all([first, second]);
    const [rejected, ...later] = times(sandbox);
    expect(sandbox.calls()[0]?.status).toBe(429);
    for (const at of later) expect(at - (rejected ?? 0)).toBeGreaterThanOrEqual(950);
  });
});

describe('client-side rate limiting', () => {
  it('spaces requests to the configured rate', async () => {
    const sandbox = sandboxOf();
    const client = clientFor(sandbox, { requestsPerSecond: 20 });
    // Measured from before the first call left, not from its arrival: a cold connection can delay the first
    // arrival, which shortened the arrival-to-arrival span on a loaded machine although the pacing held.
    const started = Date.now();
    await Promise.all(Array.from({ length: 10 }, () => client.list()));
    const at = times(sandbox);
    expect((at.at(-1) ?? 0) - started).toBeGreaterThanOrEqual(9 * 50 - 5);
  });

  it('keeps a burst of concurrent calls under the server limit, which an unpaced client trips', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ rateLimit: { rps: 50, burst: 5 } });
    const unpaced = clientFor(sandbox, { retry: { maxAttempts: 1 } });
    await Promise.allSettled(Array.from({ length: 30 }, () => unpaced.list()));
    expect(sandbox.calls().filter((c) => c.status === 429).length).toBeGreaterThan(0);

    // A fresh limit starts with a full bucket: the paced client meets the same server limit afresh.
    sandbox.setFaults({ rateLimit: { rps: 50, burst: 5 } });
    sandbox.clearCalls();
    const paced = clientFor(sandbox, { retry: { maxAttempts: 1 }, requestsPerSecond: 45 });
    await Promise.all(Array.from({ length: 30 }, () => paced.list()));
    expect(sandbox.calls().filter((c) => c.status === 429)).toEqual([]);
  });
});
