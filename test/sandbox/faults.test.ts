import { describe, expect, it } from 'vitest';
import { FaultInjector, parseFaultSettings, seededRandom, TokenBucket } from '../../sandbox/faults';

describe('seededRandom', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const first = Array.from({ length: 5 }, seededRandom(7));
    const again = Array.from({ length: 5 }, seededRandom(7));
    const other = Array.from({ length: 5 }, seededRandom(8));
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    for (const value of first) expect(value >= 0 && value < 1).toBe(true);
  });
});

describe('TokenBucket', () => {
  it('lets a burst through, then refills at the configured rate', () => {
    const clock = { now: 0 };
    const bucket = new TokenBucket(10, 3, () => clock.now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    clock.now += 99;
    expect(bucket.take()).toBe(false);
    clock.now += 1;
    expect(bucket.take()).toBe(true);
    clock.now += 10_000;
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  });
});

describe('FaultInjector', () => {
  it('defaults the burst to max(1, ceil(rps / 10)) and announces Retry-After', () => {
    const clock = { now: 0 };
    const injector = new FaultInjector(1, () => clock.now);
    injector.replace({ rateLimit: { rps: 45, retryAfterSeconds: 3 } });
    const outcomes = Array.from({ length: 6 }, () => injector.rateLimited());
    expect(outcomes).toEqual([undefined, undefined, undefined, undefined, undefined, 3]);
    injector.replace({ rateLimit: { rps: 2 } });
    expect([injector.rateLimited(), injector.rateLimited()]).toEqual([undefined, 1]);
  });

  it('consumes scripted faults in order, by method and path, and shows what is left', () => {
    const injector = new FaultInjector(1);
    injector.replace({
      scripted: [
        { method: 'patch', path: '/roles', status: 503, times: 2 },
        { path: '/roles', status: 500 },
      ],
    });
    expect(injector.onArrival('GET', '/roles').scripted?.status).toBe(500);
    expect(injector.current().scripted).toEqual([{ method: 'PATCH', path: '/roles', status: 503, times: 2 }]);
    expect(injector.onArrival('PATCH', '/other').scripted).toBeUndefined();
    expect(injector.onArrival('PATCH', '/roles').scripted?.status).toBe(503);
    expect(injector.onArrival('PATCH', '/roles').scripted?.status).toBe(503);
    expect(injector.onArrival('PATCH', '/roles').scripted).toBeUndefined();
    expect(injector.current()).toEqual({});
  });

  it('adds scripted delay to a latency range drawn from the seed', () => {
    const draw = () => {
      const injector = new FaultInjector(42);
      injector.replace({ latencyMs: { min: 10, max: 20 }, scripted: [{ delayMs: 100 }] });
      return [injector.onArrival('GET', '/a').delayMs, injector.onArrival('GET', '/a').delayMs];
    };
    const [scripted = 0, plain = 0] = draw();
    expect(scripted).toBeGreaterThanOrEqual(110);
    expect(scripted).toBeLessThanOrEqual(120);
    expect(plain).toBeGreaterThanOrEqual(10);
    expect(plain).toBeLessThanOrEqual(20);
    expect(draw()).toEqual([scripted, plain]);
  });

  it('restarts the random sequence on reset', () => {
    const injector = new FaultInjector(3);
    injector.replace({ serverErrorRate: 0.5 });
    const run = () => Array.from({ length: 20 }, () => injector.serverError());
    const first = run();
    injector.reset();
    expect(injector.current()).toEqual({});
    injector.replace({ serverErrorRate: 0.5 });
    expect(run()).toEqual(first);
    expect(first.filter((status) => status !== undefined).every((s) => [500, 502, 503].includes(s!))).toBe(
      true,
    );
  });
});

describe('parseFaultSettings', () => {
  it('keeps valid settings as given', () => {
    const settings = {
      latencyMs: { min: 1, max: 2 },
      rateLimit: { rps: 5, burst: 2, retryAfterSeconds: 4 },
      serverErrorRate: 0.1,
      dropRate: 0,
      visibilityDelayMs: 300,
      scripted: [
        { method: 'POST', path: '/x', times: 2, status: 502, retryAfterSeconds: 1, afterEffect: true },
      ],
    };
    expect(parseFaultSettings(settings)).toEqual(settings);
    expect(parseFaultSettings({ rateLimit: null })).toEqual({ rateLimit: null });
  });

  it.each([
    [{ latency: 5 }, /unknown field\(s\): latency/],
    [{ latencyMs: -1 }, /"latencyMs"/],
    [{ latencyMs: { min: 5, max: 1 } }, /"latencyMs.max"/],
    [{ serverErrorRate: 1.5 }, /"serverErrorRate"/],
    [{ dropRate: '0.5' }, /"dropRate"/],
    [{ rateLimit: { rps: 0 } }, /"rateLimit.rps"/],
    [{ rateLimit: { rps: 5, burst: 0.5 } }, /"rateLimit.burst"/],
    [{ scripted: {} }, /"scripted" must be an array/],
    [{ scripted: [{ status: 'x' }] }, /"scripted\[0\].status"/],
    [{ scripted: [{ drop: 1 }] }, /"scripted\[0\].drop"/],
    [{ scripted: [{ times: 0 }] }, /"scripted\[0\].times"/],
    ['nope', /"faults" must be an object/],
  ])('rejects %j naming the field', (settings, message) => {
    expect(() => parseFaultSettings(settings)).toThrow(message);
  });
});
