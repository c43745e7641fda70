import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../functions/core/truefoundry/rate-limiter';

function fakeClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('RateLimiter', () => {
  it('hands out slots one interval apart in call order', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ requestsPerSecond: 1000, now: clock.now });
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => limiter.acquire().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it('lets a burst through at once after a quiet spell, then paces', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ requestsPerSecond: 10, burst: 3, now: clock.now });
    clock.advance(10_000);
    // Let through at once, the three are through before the next turn of the event loop; one that had to
    // wait for its slot would be sleeping then, and the abort would fail it. No stopwatch involved.
    const controller = new AbortController();
    const burst = Promise.all([1, 2, 3].map(() => limiter.acquire(controller.signal)));
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await expect(burst).resolves.toHaveLength(3);
  });

  it('after an event-loop stall, lets waiting callers go at the pace again, not all at once', async () => {
    const limiter = new RateLimiter({ requestsPerSecond: 10 });
    const released: number[] = [];
    const callers = Array.from({ length: 6 }, () =>
      limiter.acquire().then(() => released.push(performance.now())),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Block the event loop for half a second: every waiting caller's slot passes meanwhile.
    const stallEnd = performance.now() + 500;
    while (performance.now() < stallEnd) {
      // busy
    }
    await Promise.all(callers);
    const soonAfterStall = released.filter((at) => at >= stallEnd && at < stallEnd + 50);
    expect(soonAfterStall.length).toBeLessThanOrEqual(2);
    expect(released).toHaveLength(6);
  });

  it('stops an abandoned wait when the signal fires', async () => {
    const limiter = new RateLimiter({ requestsPerSecond: 1 });
    await limiter.acquire();
    await expect(limiter.acquire(AbortSignal.timeout(20))).rejects.toThrow();
  });

  it('rejects nonsense settings', () => {
    expect(() => new RateLimiter({ requestsPerSecond: 0 })).toThrow(/requestsPerSecond/);
    expect(() => new RateLimiter({ requestsPerSecond: 5, burst: 0 })).toThrow(/burst/);
  });
});
