import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from './support/cli-harness';

/*
 * `hr-provisioning batch FILE --dry-run` against a real local runtime and its sandbox: the table and summary,
 * the route's JSON with --json, chunks merged back to the file's lines, and nothing recorded or written.
 */

describe('hr-provisioning batch --dry-run', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime();
  });
  afterAll(async () => {
    await rt.close();
  });
  beforeEach(() => {
    rt.runtime.sandbox?.reset();
    rt.runtime.sandbox?.seedUser({ email: 'grace@example.com', roles: ['tenant-member'] });
    rt.runtime.sandbox?.seedUser({ email: 'linus@example.com', roles: ['tenant-member'] });
  });

  const CSV = [
    'id,type,email,roles',
    'd-1,hire,ada@example.com,tenant-member',
    'd-2,role_change,grace@example.com,tenant-admin',
    'd-3,promote,ken@example.com,',
    'd-4,offboard,linus@example.com,',
    'd-5,hire,grace@example.com,tenant-member',
  ].join('\n');

  async function expectNoTrace(): Promise<void> {
    const sandbox = rt.runtime.sandbox;
    expect(sandbox?.calls().filter((c) => c.method !== 'GET')).toEqual([]);
    expect((await rt.runtime.store.events.list({ limit: 100 })).records).toEqual([]);
    expect(rt.runtime.queue.depth()).toEqual({ queued: 0, inFlight: 0, deadLetters: 0 });
  }

  it('prints a table of the plans, the rejected rows and the summary', async () => {
    writeFileSync(join(rt.workDir, 'people.csv'), CSV);
    const run = await rt.cli(['batch', 'people.csv', '--dry-run']);
    expect(run.code).toBe(2);
    expect(run.stdout.split('\n')).toEqual([
      'people.csv: preview (dry run): nothing was recorded, queued or written to TrueFoundry',
      'LINE  ID   EMAIL              ACTIONS                     NOTE',
      '2     d-1  ada@example.com    register, set-roles:tenant',
      '3     d-2  grace@example.com  set-roles:tenant',
      '5     d-4  linus@example.com  deactivate',
      '6     d-5  grace@example.com  no-op                       already in the wanted state',
      'rejected rows (line in people.csv: error)',
      expect.stringMatching(/^ {2}line 4: .*type/),
      'summary: create 1, activate 0, set-roles 2, deactivate 1, delete 0, no-op 1; rejected 1',
      '',
    ]);
    expect(existsSync(join(rt.workDir, 'people.csv.progress.json'))).toBe(false);
    await expectNoTrace();
  });

  it("prints the route's JSON with --json, chunks merged back to the file's lines", async () => {
    writeFileSync(join(rt.workDir, 'chunked.csv'), CSV);
    const run = await rt.cli(['batch', 'chunked.csv', '--dry-run', '--json', '--chunk-rows', '2']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({
      dryRun: true,
      plans: [
        { line: 2, id: 'd-1', email: 'ada@example.com', actions: ['register', 'set-roles:tenant'] },
        { line: 3, id: 'd-2', email: 'grace@example.com', actions: ['set-roles:tenant'] },
        { line: 5, id: 'd-4', email: 'linus@example.com', actions: ['deactivate'] },
        {
          line: 6,
          id: 'd-5',
          email: 'grace@example.com',
          actions: [],
          note: 'already in the wanted state',
        },
      ],
      rejected: [{ line: 4, error: expect.stringContaining('type') }],
      summary: { create: 1, activate: 0, 'set-roles': 2, deactivate: 1, delete: 0, 'no-op': 1 },
    });
    await expectNoTrace();
  });

  it('refuses --json without --dry-run, and a chunk size above what a preview plans, sending nothing', async () => {
    writeFileSync(join(rt.workDir, 'refused.csv'), CSV);
    const json = await rt.cli(['batch', 'refused.csv', '--json']);
    expect(json.code).toBe(1);
    expect(json.stderr).toContain('--json goes with --dry-run');
    const big = await rt.cli(['batch', 'refused.csv', '--dry-run', '--chunk-rows', '201']);
    expect(big.code).toBe(1);
    expect(big.stderr).toContain('chunk-rows');
    expect(rt.runtime.sandbox?.calls()).toEqual([]);
    await expectNoTrace();
  });
});
