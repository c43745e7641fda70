import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime, terminalStatus } from './support/cli-harness';

describe('hr-provisioning status and events', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime();
    const events = ['ins-1', 'ins-2', 'ins-3'].map((id, i) =>
      JSON.stringify({
        id,
        type: 'hire',
        occurredAt: '2026-11-02T09:00:00Z',
        employee: { id: `E-${id}`, email: `inspect${i}@example.com` },
        roles: ['tenant-member'],
      }),
    );
    writeFileSync(join(rt.workDir, 'inspect.jsonl'), events.join('\n'));
    expect((await rt.cli(['send', 'inspect.jsonl'])).code).toBe(0);
    for (const id of ['ins-1', 'ins-2', 'ins-3']) await terminalStatus(rt, id);
  });
  afterAll(async () => {
    await rt.close();
  });

  it('shows a processed event: status first, then its TrueFoundry calls with their HTTP status', async () => {
    const run = await rt.cli(['status', 'ins-1']);

    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('ins-1: succeeded');
    expect(run.stdout).toContain('  type       hire');
    expect(run.stdout).toContain('  employee   E-ins-1 <inspect0@example.com>');
    expect(run.stdout).toContain('  attempts   1');
    const header = lines.find((line) => line.includes('STEP'));
    expect(header).toMatch(/STEP\s+ACTION\s+ACCOUNT\s+OUTCOME\s+HTTP\s+ATTEMPT\s+STARTED\s+TOOK\s+ERROR/);
    expect(run.stdout).toMatch(
      /create\s+register\s+inspect0@example\.com\s+done\s+200\s+1\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+\d+ ms/,
    );
  });

  it('prints the event view as JSON with --json', async () => {
    const run = await rt.cli(['status', 'ins-2', '--json']);

    const event = JSON.parse(run.stdout) as { id: string; status: string; steps: unknown[] };
    expect(event).toMatchObject({ id: 'ins-2', status: 'succeeded' });
    expect(event.steps.length).toBeGreaterThan(0);
  });

  it('says when an event was never accepted', async () => {
    const run = await rt.cli(['status', 'no-such-event']);

    expect(run.code).toBe(1);
    expect(run.stderr).toBe('error: no event "no-such-event" was ever accepted\n');
  });

  it('lists events of one status in a table', async () => {
    const run = await rt.cli(['events', '--status', 'succeeded']);

    expect(run.code).toBe(0);
    const [header, ...rows] = run.stdout.trim().split('\n');
    expect(header).toMatch(/^ID\s+STATUS\s+TYPE\s+EMAIL\s+ATTEMPTS\s+UPDATED\s+ERROR$/);
    expect(rows).toHaveLength(3);
    expect(rows.find((row) => row.startsWith('ins-3'))).toMatch(
      /^ins-3\s+succeeded\s+hire\s+inspect2@example\.com\s+1\s+\d{4}-/,
    );
    expect((await rt.cli(['events', '--status', 'failed'])).stdout).toBe('no failed events\n');
  });

  it('stops at --limit and prints JSON with --json', async () => {
    const run = await rt.cli(['events', '--limit', '2', '--json']);

    const page = JSON.parse(run.stdout) as { events: { id: string }[]; cursor?: string };
    expect(page.events).toHaveLength(2);
    expect(page.cursor).toBeDefined();
  });

  it('refuses an unknown status', async () => {
    const run = await rt.cli(['events', '--status', 'done']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--status must be one of queued, running, succeeded, superseded, failed');
  });
});
