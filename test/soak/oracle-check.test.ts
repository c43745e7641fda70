import { describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '../../functions/core/events/canonical-event';
import type { CallRecord, SandboxUser } from '../../sandbox';
import type { EventView } from '../../soak/observe';
import {
  checkDeadLetters,
  checkDirectory,
  checkOnce,
  checkSecrets,
  checkStatuses,
} from '../../soak/oracle-check';

/* The soak's checks can fail: each is shown a run that broke the contract, and says so. */

const event = (
  id: string,
  type: CanonicalEvent['type'],
  at: string,
  email = 'ada@example.com',
): CanonicalEvent => ({
  id,
  type,
  occurredAt: `2026-01-01T${at}:00.000Z`,
  employee: { id: 'E1', email },
  ...(type === 'offboard' ? {} : { roles: ['tenant-member'] }),
});
const view = (id: string, status: string, sequence: number): EventView => ({ id, status, sequence });
const views = (...list: EventView[]) => new Map(list.map((v) => [v.id, v]));
const user = (email: string, active: boolean, roles: string[]) => ({ email, active, roles }) as SandboxUser;

const hire = event('h', 'hire', '09:00');
const offboard = event('o', 'offboard', '10:00');

describe('the soak checks', () => {
  it('pass a run that kept the contract', () => {
    const { violations, oracle } = checkStatuses(
      [hire, offboard],
      views(view('h', 'succeeded', 1), view('o', 'succeeded', 2)),
    );
    expect(violations).toEqual([]);
    expect(checkDirectory(oracle, [user('ada@example.com', false, ['tenant-member'])])).toEqual([]);
  });

  it('name an event left open, and one that ended otherwise than the oracle says', () => {
    const { violations } = checkStatuses(
      [hire, offboard, event('late', 'hire', '08:00')],
      views(view('h', 'succeeded', 1), view('o', 'running', 2), view('late', 'succeeded', 3)),
    );
    expect(violations.map((v) => v.kind)).toEqual(['not terminal', 'status']);
    expect(violations[1]?.detail).toContain('late');
    expect(violations[1]?.detail).toContain('expected superseded, got succeeded');
  });

  it('order by the acceptance sequence the runtime reports, not by the order sent', () => {
    // Sent offboard first, but the runtime accepted the hire first: both apply, the account ends inactive.
    const { violations, oracle } = checkStatuses(
      [offboard, hire],
      views(view('o', 'succeeded', 2), view('h', 'succeeded', 1)),
    );
    expect(violations).toEqual([]);
    expect(oracle.accounts().get('ada@example.com')?.active).toBe(false);
  });

  it('find TrueFoundry unlike the oracle: a missing user, a wrong state, an extra user', () => {
    const { oracle } = checkStatuses([hire], views(view('h', 'succeeded', 1)));
    expect(checkDirectory(oracle, [])[0]?.detail).toContain('no such user');
    const wrong = checkDirectory(oracle, [
      user('ada@example.com', false, ['tenant-admin']),
      user('ghost@example.com', true, []),
    ]);
    expect(wrong.map((v) => v.detail)).toEqual([
      'ada@example.com: active false, expected true; roles [tenant-admin], expected [tenant-member]',
      'ghost@example.com: in TrueFoundry, but no event should have created it',
    ]);
  });

  it('count a second create and a second invitation of one address', () => {
    const created = { method: 'POST', body: { email: 'ada@example.com' }, effect: 'created' } as CallRecord;
    const mail = { to: 'ada@example.com', link: 'x', at: 'y' };
    expect(checkOnce([created], [mail])).toEqual([]);
    expect(checkOnce([created, created], [mail, mail]).map((v) => v.kind)).toEqual([
      'created twice',
      'invited twice',
    ]);
  });

  it('want every failed event among the dead letters, with a reason naming both employee ids', () => {
    const failed = views(view('x', 'failed', 1), view('h', 'succeeded', 2));
    const conflict = new Map([['x', 'E9']]);
    const events = [{ ...hire, id: 'x' }, hire];
    expect(
      checkDeadLetters(failed, [{ eventId: 'x', reason: 'held by E9, not E1' }], undefined, conflict, events),
    ).toEqual([]);
    const found = checkDeadLetters(
      failed,
      [{ eventId: 'h', reason: 'what' }],
      [{ eventId: 'x' }],
      conflict,
      events,
    ).map((v) => v.detail);
    expect(found).toEqual([
      'x failed but is no dead letter',
      'h is a dead letter but succeeded',
      'hr-provisioning dlq list and GET /dlq list different letters',
    ]);
    expect(
      checkDeadLetters(failed, [{ eventId: 'x', reason: 'taken' }], undefined, conflict, events)[0]?.detail,
    ).toContain('does not name E1 and E9');
  });

  it('report a secret by its name and where it was seen, never by its value', () => {
    const found = checkSecrets(
      [{ name: 'TFY_API_KEY', value: 'sk-secret-value' }],
      [
        { where: 'the runtime output', text: 'calling with sk-secret-value twice: sk-secret-value' },
        { where: 'the call log', text: 'nothing here' },
      ],
    );
    expect(found).toEqual([
      { kind: 'secret', detail: 'TFY_API_KEY appears 2 time(s) in the runtime output' },
    ]);
  });
});
