import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime, terminalStatus, waitFor } from './support/cli-harness';

type Listing = { deadLetters: { eventId: string; reason: string; employeeKey: string }[] };

describe('hr-provisioning dlq on the local runtime', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime({
      TFY_PROVISION_MODE: 'invite',
      TFY_ACCEPT_INVITE_URL: 'https://app.example.com/accept-invite',
    });
  });
  afterAll(async () => {
    await rt.close();
  });

  it('lists a dead letter, then redrives it to success once the cause is gone', async () => {
    // TrueFoundry refuses the invite with 403: permanent, so the event is dead-lettered at once.
    rt.runtime.sandbox!.setFaults({ scripted: [{ method: 'POST', status: 403 }] });
    const event = {
      id: 'dlq-1',
      type: 'hire',
      occurredAt: '2026-11-02T09:00:00Z',
      employee: { id: 'E-DLQ-1', email: 'dead.letter@example.com' },
      roles: ['tenant-member'],
    };
    writeFileSync(join(rt.workDir, 'dlq.json'), JSON.stringify(event));
    expect((await rt.cli(['send', 'dlq.json'])).code).toBe(0);

    const listing = await waitFor(async () => {
      const run = await rt.cli(['dlq', 'list', '--json']);
      const parsed = JSON.parse(run.stdout) as Listing;
      return parsed.deadLetters.length > 0 ? parsed : undefined;
    }, 'the dead letter');
    expect(listing.deadLetters).toHaveLength(1);
    expect(listing.deadLetters[0]).toMatchObject({ eventId: 'dlq-1', employeeKey: expect.any(String) });
    expect(listing.deadLetters[0]!.reason).toContain('403');
    expect(await terminalStatus(rt, 'dlq-1')).toBe('failed');
    const table = await rt.cli(['dlq', 'list']);
    expect(table.stdout).toMatch(/^EVENT\s+EMPLOYEE\s+DEAD AT\s+DELIVERIES\s+REASON\n/);
    expect(table.stdout).toMatch(/^dlq-1\s+/m);

    rt.runtime.sandbox!.setFaults({});
    const redrive = await rt.cli(['dlq', 'redrive', '--id', 'dlq-1', '--id', 'not-dead']);

    expect(redrive.code).toBe(0);
    expect(redrive.stdout).toContain('redriven 1:\n  dlq-1\n');
    expect(redrive.stdout).toContain('not in the dead-letter queue: not-dead');
    await waitFor(async () => {
      const run = await rt.cli(['status', 'dlq-1', '--json']);
      return (JSON.parse(run.stdout) as { status: string }).status === 'succeeded' ? true : undefined;
    }, 'the redriven event to succeed');
    expect((await rt.cli(['dlq', 'list'])).stdout).toBe('the dead-letter queue is empty\n');
    expect((await rt.cli(['dlq', 'redrive'])).stdout).toBe('nothing was redriven\n');
  });
});
