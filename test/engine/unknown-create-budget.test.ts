import { describe, expect, it } from 'vitest';
import { handleEventMessage } from '../../functions/core/engine/handle-event-message';
import { engineFor, event } from '../support/engine-harness';
import { useSandbox } from '../support/sandbox';

/**
 * The soak's find: a create answered 503 (it may have happened) makes the next deliveries wait for the account
 * up to the unknown-create bound. Those waits made no call and must spend none of the retry budget; counted,
 * the waits plus the usual "not visible yet" retry of a new user used up 5 attempts and failed the event, with
 * the account created under the wrong roles.
 */
const sandboxOf = useSandbox({ faults: { visibilityDelayMs: 0 } });

describe('waiting for a create whose outcome is unknown', () => {
  it('spends no retry budget: more waits than the budget still end succeeded, created once, with its roles', async () => {
    const sandbox = sandboxOf();
    // The register fails before it creates anything, so the account never shows up while the event waits.
    sandbox.setFaults({ scripted: [{ method: 'POST', path: '/api/svc/v1/users/register', status: 503 }] });
    let nowMs = Date.parse('2026-12-01T09:00:00Z');
    const boundMs = 120_000;
    const engine = engineFor(sandbox, { config: { unknownCreateBoundMs: boundMs } });
    const deps = { ...engine.deps, now: () => nowMs, maxAttempts: 3 };
    const hire = event('hire', 'ada@example.com', { roles: ['tenant-admin'] });
    const message = (receiveCount: number) => ({
      messageId: `m-${receiveCount}`,
      body: JSON.stringify(hire),
      receiveCount,
    });

    const verdicts = [];
    for (let receive = 1; receive <= 12; receive++) {
      const verdict = await handleEventMessage(message(receive), deps);
      verdicts.push(verdict.action);
      if (verdict.action !== 'retry') break;
      // The queue brings it back after the delay the worker asked for (at least 10 s here).
      nowMs += Math.max(verdict.delayMs, 10_000);
    }
    // First delivery: 503 (unknown); then at least 4 waits of ≤ 40 s within the 120 s bound, more than the
    // budget of 3; then the create and the roles.
    expect(verdicts.filter((v) => v === 'retry').length).toBeGreaterThan(3);
    expect(verdicts.at(-1)).toBe('delete');
    const record = await engine.store.events.get(hire.id);
    expect(record?.status).toBe('succeeded');
    expect(record?.steps.filter((s) => s.outcome === 'waiting').length).toBeGreaterThanOrEqual(3);
    expect(sandbox.users()).toEqual([
      expect.objectContaining({ email: 'ada@example.com', roles: ['tenant-admin'] }),
    ]);
    expect(sandbox.calls().filter((c) => c.effect === 'created')).toHaveLength(1);
  });

  it('still fails an event whose real attempts run out', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ scripted: [{ method: 'GET', status: 503, times: 100 }] });
    const engine = engineFor(sandbox);
    const deps = { ...engine.deps, maxAttempts: 3 };
    const hire = event('hire', 'bob@example.com', { roles: ['tenant-member'] });
    const actions = [];
    for (let receive = 1; receive <= 5; receive++) {
      const verdict = await handleEventMessage(
        { messageId: `m-${receive}`, body: JSON.stringify(hire), receiveCount: receive },
        deps,
      );
      actions.push(verdict.action);
      if (verdict.action !== 'retry') break;
    }
    expect(actions).toEqual(['retry', 'retry', 'dead-letter']);
    expect((await engine.store.events.get(hire.id))?.status).toBe('failed');
  });
});
