import { describe, expect, it } from 'vitest';
import { handleEventMessage } from '../../functions/core/engine/handle-event-message';
import { engineFor } from '../support/engine-harness';
import { useSandbox } from '../support/sandbox';

const sandboxOf = useSandbox();

const valid = {
  id: 'evt-bad',
  type: 'hire',
  occurredAt: '2026-11-29T09:00:00Z',
  employee: { id: 'E1', email: 'ada@example.com' },
  roles: ['tenant-member'],
};

describe('a bad event reaching the worker', () => {
  it.each([
    ['a missing email', { ...valid, employee: { id: 'E1' } }, 'employee.email: is required'],
    ['an unknown type', { ...valid, type: 'promotion' }, 'type: must be one of hire, role_change, offboard'],
    ['a malformed date', { ...valid, occurredAt: '29/11/2026' }, 'occurredAt: must be an ISO-8601 date-time'],
    ['roles that are not strings', { ...valid, roles: ['tenant-member', 42] }, 'roles.1: must be a string'],
  ])(
    'is dead-lettered for %s with a clear reason, makes no call and records nothing',
    async (_name, body, reason) => {
      const sandbox = sandboxOf();
      const engine = engineFor(sandbox);
      const verdict = await handleEventMessage(
        { messageId: 'm-1', body: JSON.stringify(body), receiveCount: 1 },
        { ...engine.deps, maxAttempts: 5 },
      );
      expect(verdict).toEqual({ action: 'dead-letter', reason: expect.stringContaining(reason) });
      expect(sandbox.calls()).toEqual([]);
      expect(await engine.store.events.get('evt-bad')).toBeUndefined();
    },
  );

  it('is dead-lettered when the message is not JSON at all', async () => {
    const sandbox = sandboxOf();
    const engine = engineFor(sandbox);
    const verdict = await handleEventMessage(
      { messageId: 'm-2', body: '{"id":', receiveCount: 1 },
      { ...engine.deps, maxAttempts: 5 },
    );
    expect(verdict).toEqual({ action: 'dead-letter', reason: expect.stringContaining('m-2 is not JSON') });
    expect(sandbox.calls()).toEqual([]);
  });
});
