import { describe, expect, it } from 'vitest';
import type { ConvergenceConfig } from '../../functions/core/engine/converge-event';
import { convergeEvent } from '../../functions/core/engine/converge-event';
import type { StateStore } from '../../functions/core/engine/ports';
import { type CanonicalEvent, parseCanonicalEvent } from '../../functions/core/events/canonical-event';
import { INVITE_PATH } from '../../functions/core/truefoundry/api-contract';
import type { Sandbox } from '../../sandbox';
import { callsOf, engineFor } from '../support/engine-harness';
import { useSandbox } from '../support/sandbox';

const sandboxOf = useSandbox();

const T = '2026-11-29T09:00:00.000Z';
const T1 = '2026-11-29T10:00:00.000Z';
const T2 = '2026-11-29T11:00:00.000Z';

let counter = 0;
function hrEvent(
  type: CanonicalEvent['type'],
  employeeId: string,
  email: string,
  fields: { at?: string; roles?: string[]; id?: string } = {},
): CanonicalEvent {
  counter += 1;
  const parsed = parseCanonicalEvent({
    id: fields.id ?? `id-evt-${counter}`,
    type,
    occurredAt: fields.at ?? T,
    employee: { id: employeeId, email },
    ...(type === 'offboard' ? {} : { roles: fields.roles ?? ['tenant-member'] }),
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.event;
}

/** The engine, with events accepted (and so given their acceptance sequence) as ingest would. */
function pipeline(sandbox: Sandbox, config: Partial<ConvergenceConfig> = {}, now?: () => number) {
  const engine = engineFor(sandbox, { config });
  const deps = now ? { ...engine.deps, now } : engine.deps;
  const accept = async (event: CanonicalEvent) => {
    const sequence = await engine.store.events.reserveSequences(1);
    await engine.store.events.accept(event, { source: 'events', at: T, sequence });
  };
  return {
    store: engine.store as StateStore,
    accept,
    run: (event: CanonicalEvent) => convergeEvent(event, deps),
    /** Accepts, then delivers until the event is done (a retry is delivered again at once). */
    async send(event: CanonicalEvent) {
      await accept(event);
      for (let delivery = 1; delivery <= 20; delivery++) {
        const outcome = await convergeEvent(event, deps);
        if (outcome.status !== 'retry') return outcome;
      }
      throw new Error(`${event.id} kept retrying`);
    },
  };
}

const userOf = (sandbox: Sandbox, email: string) => sandbox.users().find((u) => u.email === email);

describe('an email change', () => {
  it('provisions the new account first, then deactivates the old one; the offboard then covers both', async () => {
    const sandbox = sandboxOf();
    const p = pipeline(sandbox);
    await p.send(hrEvent('hire', 'E1', 'old@example.com', { at: T }));
    const change = hrEvent('role_change', 'E1', 'new@example.com', { at: T1, roles: ['tenant-viewer'] });
    expect(await p.send(change)).toMatchObject({ status: 'succeeded' });

    expect(userOf(sandbox, 'new@example.com')).toMatchObject({ active: true, roles: ['tenant-viewer'] });
    expect(userOf(sandbox, 'old@example.com')).toMatchObject({ active: false });
    const steps = (await p.store.events.get(change.id))?.steps.map((s) => `${s.action} ${s.email}`);
    expect(steps).toEqual([
      'register new@example.com',
      'set-roles new@example.com',
      'deactivate old@example.com',
    ]);

    const offboard = hrEvent('offboard', 'E1', 'new@example.com', { at: T2 });
    expect(await p.send(offboard)).toMatchObject({ status: 'succeeded' });
    expect(userOf(sandbox, 'old@example.com')?.active).toBe(false);
    expect(userOf(sandbox, 'new@example.com')?.active).toBe(false);
  });

  it('an offboard that carries the old email deactivates the new account too', async () => {
    const sandbox = sandboxOf();
    const p = pipeline(sandbox);
    await p.send(hrEvent('hire', 'E1', 'old@example.com', { at: T }));
    await p.send(hrEvent('hire', 'E1', 'new@example.com', { at: T1 }));
    expect(userOf(sandbox, 'new@example.com')?.active).toBe(true);
    await p.send(hrEvent('offboard', 'E1', 'old@example.com', { at: T2 }));
    expect(userOf(sandbox, 'new@example.com')?.active).toBe(false);
    expect(userOf(sandbox, 'old@example.com')?.active).toBe(false);
  });

  it('a role change after the offboard, under yet another email, creates no account', async () => {
    const sandbox = sandboxOf();
    const p = pipeline(sandbox);
    await p.send(hrEvent('hire', 'E1', 'a@example.com', { at: T }));
    await p.send(hrEvent('offboard', 'E1', 'a@example.com', { at: T1 }));
    const late = hrEvent('role_change', 'E1', 'b@example.com', { at: T2 });
    const before = sandbox.calls().length;
    expect(await p.send(late)).toMatchObject({
      status: 'succeeded',
      note: expect.stringContaining('offboarded'),
    });
    expect(callsOf(sandbox).slice(before)).toEqual([]);
    expect(userOf(sandbox, 'b@example.com')).toBeUndefined();
  });
});

describe('one email, two people', () => {
  it('fails an event for good when its email is another active person’s, naming both ids, with no write', async () => {
    const sandbox = sandboxOf();
    const p = pipeline(sandbox);
    await p.send(hrEvent('hire', 'E1', 'ada@example.com', { roles: ['tenant-member'] }));
    const before = sandbox.calls().length;
    const intruder = hrEvent('hire', 'E2', 'ada@example.com', { at: T1, roles: ['tenant-admin'] });
    const outcome = await p.send(intruder);
    expect(outcome).toMatchObject({ status: 'failed' });
    const reason = outcome.status === 'failed' ? outcome.reason : '';
    expect(reason).toContain('E1');
    expect(reason).toContain('E2');
    expect(
      sandbox
        .calls()
        .slice(before)
        .filter((c) => c.method !== 'GET'),
    ).toEqual([]);
    expect(userOf(sandbox, 'ada@example.com')).toMatchObject({ active: true, roles: ['tenant-member'] });
    expect(await p.store.events.get(intruder.id)).toMatchObject({ status: 'failed', error: reason });
  });

  it('re-links the email of an offboarded person to the new employee number on rehire, and keeps it theirs', async () => {
    const sandbox = sandboxOf();
    const p = pipeline(sandbox);
    await p.send(hrEvent('hire', 'E1', 'ada@example.com', { at: T }));
    await p.send(hrEvent('offboard', 'E1', 'ada@example.com', { at: T1 }));
    expect(await p.send(hrEvent('hire', 'E9', 'ada@example.com', { at: T2 }))).toMatchObject({
      status: 'succeeded',
    });
    expect(userOf(sandbox, 'ada@example.com')?.active).toBe(true);
    expect(sandbox.calls().filter((c) => c.effect === 'created')).toHaveLength(1);
    expect(await p.store.people.ownerOf('ada@example.com')).toBe('id:E9');
    // The leaver's number offboarded again (HR resends it): the address is no longer theirs to close.
    await p.send(hrEvent('offboard', 'E1', 'other@example.com', { at: '2026-11-29T12:00:00.000Z' }));
    expect(userOf(sandbox, 'ada@example.com')?.active).toBe(true);
  });
});

describe('order with ties', () => {
  it('a hire that failed for good and is redriven after an offboard with the same timestamp is superseded', async () => {
    const sandbox = sandboxOf();
    const p = pipeline(sandbox);
    await p.send(hrEvent('hire', 'E1', 'ada@example.com', { at: T }));
    const badHire = hrEvent('hire', 'E1', 'ada@example.com', { at: T1, roles: ['no-such-role'] });
    expect(await p.send(badHire)).toMatchObject({ status: 'failed' });
    const offboard = hrEvent('offboard', 'E1', 'ada@example.com', { at: T1 });
    expect(await p.send(offboard)).toMatchObject({ status: 'succeeded' });
    expect(userOf(sandbox, 'ada@example.com')?.active).toBe(false);

    const before = sandbox.calls().length;
    const redriven = await p.run(badHire);
    expect(redriven).toMatchObject({ status: 'superseded', note: expect.stringContaining(offboard.id) });
    expect(sandbox.calls().length).toBe(before);
    expect(userOf(sandbox, 'ada@example.com')?.active).toBe(false);
  });

  it('decides equal timestamps by acceptance order, whatever order they are delivered in', async () => {
    const sandbox = sandboxOf();
    const p = pipeline(sandbox);
    await p.send(hrEvent('hire', 'E1', 'ada@example.com', { at: T }));
    const offboard = hrEvent('offboard', 'E1', 'ada@example.com', { at: T1 });
    const lateHire = hrEvent('hire', 'E1', 'ada@example.com', { at: T1 });
    await p.accept(offboard);
    await p.accept(lateHire);
    // Delivered out of acceptance order: the hire, then the offboard.
    expect(await p.run(lateHire)).toMatchObject({ status: 'succeeded' });
    expect(await p.run(offboard)).toMatchObject({ status: 'superseded' });
    expect(userOf(sandbox, 'ada@example.com')?.active).toBe(true);
  });
});

describe('the mark moves with the outcome', () => {
  it('an older event is applied after a newer one failed, and a superseded note names what was applied', async () => {
    const sandbox = sandboxOf();
    const p = pipeline(sandbox);
    await p.send(hrEvent('hire', 'E1', 'ada@example.com', { at: T, roles: ['tenant-member'] }));
    expect(
      await p.send(hrEvent('role_change', 'E1', 'ada@example.com', { at: T2, roles: ['bogus'] })),
    ).toMatchObject({ status: 'failed' });
    const older = hrEvent('role_change', 'E1', 'ada@example.com', { at: T1, roles: ['tenant-viewer'] });
    expect(await p.send(older)).toMatchObject({ status: 'succeeded' });
    expect(userOf(sandbox, 'ada@example.com')?.roles).toEqual(['tenant-viewer']);
    const stale = hrEvent('role_change', 'E1', 'ada@example.com', { at: T, roles: ['tenant-admin'] });
    const outcome = await p.send(stale);
    expect(outcome).toMatchObject({ status: 'superseded', note: expect.stringContaining(older.id) });
  });
});

describe('times from the future', () => {
  it('an offboard is not superseded by an event dated in the future', async () => {
    const sandbox = sandboxOf();
    const p = pipeline(sandbox);
    await p.send(hrEvent('hire', 'E1', 'ada@example.com', { at: '9999-12-31T00:00:00.000Z' }));
    const offboard = hrEvent('offboard', 'E1', 'ada@example.com', { at: T });
    const outcome = await p.send(offboard);
    expect(outcome).toMatchObject({ status: 'succeeded', note: expect.stringContaining('future') });
    expect(userOf(sandbox, 'ada@example.com')?.active).toBe(false);
  });
});

describe('a create whose outcome is unknown', () => {
  it('took effect but answered 503 while the list lags: no second invite, the account is awaited', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({
      visibilityDelayMs: 400,
      scripted: [{ method: 'POST', path: `/${INVITE_PATH}`, status: 503, afterEffect: true }],
    });
    const p = pipeline(sandbox, {
      provisionMode: 'invite',
      acceptInviteUrl: 'https://app.example.com/accept',
    });
    const hire = hrEvent('hire', 'E1', 'ada@example.com');
    await p.accept(hire);
    const outcomes: string[] = [];
    for (let delivery = 1; delivery <= 50; delivery++) {
      const outcome = await p.run(hire);
      outcomes.push(outcome.status);
      if (outcome.status !== 'retry') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(outcomes.at(-1)).toBe('succeeded');
    expect(sandbox.calls().filter((c) => c.method === 'POST' && c.path.endsWith('/invite'))).toHaveLength(1);
    expect(sandbox.emailsSent().filter((m) => m.to === 'ada@example.com')).toHaveLength(1);
    const steps = (await p.store.events.get(hire.id))?.steps ?? [];
    expect(steps[0]).toMatchObject({ action: 'invite', outcome: 'unknown', httpStatus: 503 });
    expect(steps.some((s) => s.outcome === 'waiting')).toBe(true);
    expect(userOf(sandbox, 'ada@example.com')).toMatchObject({ roles: ['tenant-member'] });
  });

  it('answered 503 and never happened: waits out the bound, then creates once', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ scripted: [{ method: 'POST', path: `/${INVITE_PATH}`, status: 503 }] });
    let clock = Date.UTC(2026, 10, 29, 9);
    const p = pipeline(
      sandbox,
      {
        provisionMode: 'invite',
        acceptInviteUrl: 'https://app.example.com/accept',
        unknownCreateBoundMs: 120_000,
      },
      () => clock,
    );
    const hire = hrEvent('hire', 'E1', 'ada@example.com');
    await p.accept(hire);
    expect(await p.run(hire)).toMatchObject({ status: 'retry' });
    clock += 60_000;
    const waiting = await p.run(hire);
    expect(waiting).toMatchObject({ status: 'retry', reason: expect.stringContaining('unknown') });
    expect(sandbox.calls().filter((c) => c.method === 'POST')).toHaveLength(1);
    clock += 60_000;
    expect(await p.run(hire)).toMatchObject({ status: 'succeeded' });
    expect(sandbox.calls().filter((c) => c.effect === 'created')).toHaveLength(1);
    expect(sandbox.emailsSent()).toHaveLength(1);
  });
});
