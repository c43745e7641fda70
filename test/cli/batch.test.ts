import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from './support/cli-harness';

const SAMPLE_CSV = join(import.meta.dirname, '../../samples/batch.csv');

/** `rows` offboard rows of people TrueFoundry does not know: each costs the worker a single lookup. */
function offboardCsv(prefix: string, rows: number): string {
  const lines = ['id,type,email'];
  for (let i = 1; i <= rows; i++) lines.push(`${prefix}-${i},offboard,${prefix}${i}@example.com`);
  return `${lines.join('\n')}\n`;
}

/** A fetch that records each POST /batch and lets `fail` turn one into an answer of its choosing. */
function batchSpy(fail?: (call: number) => Response | undefined) {
  const calls: URL[] = [];
  const spy: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    if (url.pathname === '/batch') {
      calls.push(url);
      const failure = fail?.(calls.length);
      if (failure) return failure;
    }
    return fetch(input, init);
  };
  return { spy, calls };
}

describe('hr-provisioning batch', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime();
  });
  afterAll(async () => {
    await rt.close();
  });

  it('uploads the sample CSV and reports every row accepted', async () => {
    // A copy: the progress file lives next to the file, and the shared samples are not this test's to write to.
    copyFileSync(SAMPLE_CSV, join(rt.workDir, 'batch.csv'));

    const run = await rt.cli(['batch', 'batch.csv']);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/→ batch batch-\d{8}T\d{6}Z-[0-9a-f]{6}\n/);
    expect(run.stdout).toContain('rows      4 in 1 request');
    expect(run.stdout).toContain('accepted  4 (4 new, 0 accepted before)');
    expect(run.stdout).toContain('rejected  0');
    expect(run.stderr).toContain('batch: 4/4 rows (100%)  accepted 4  rejected 0');
    expect(existsSync(join(rt.workDir, 'batch.csv.progress.json'))).toBe(false);
  });

  it('reports rejected rows by their line in the original file, across chunks and multi-line cells', async () => {
    const csv = [
      'id,type,email,name,title', // 1
      'm-1,hire,m1@example.com,Ann,Engineer', // 2
      'm-2,hire,m2@example.com,Bob,"Staff', // 3
      'Engineer', // 4
      'ML Platform"', // 5
      'm-3,hire,not-an-email,Cid,Analyst', // 6
      '', // 7
      'm-4,fire,m4@example.com,Dee,Analyst', // 8
      'm-5,hire,m5@example.com,Eve,"Two', // 9
      'lines"', // 10
      'm-6,hire,m6@example.com,Fay', // 11: too few cells
    ].join('\n');
    writeFileSync(join(rt.workDir, 'mixed.csv'), csv);

    const run = await rt.cli(['batch', 'mixed.csv', '--chunk-rows', '2']);

    expect(run.code).toBe(2);
    expect(run.stdout).toContain('rows      6 in 3 requests');
    expect(run.stdout).toContain('accepted  3 (3 new, 0 accepted before)');
    expect(run.stdout).toContain('rejected  3');
    expect(run.stdout).toContain('rejected rows (line in mixed.csv: error)');
    expect(run.stdout).toContain('  line 6: email: must be an email address');
    expect(run.stdout).toContain('  line 8: type: must be one of hire, role_change, offboard');
    expect(run.stdout).toContain('  line 11: has 4 cells, expected 5 (one per header column)');
    const m5 = await rt.cli(['status', 'm-5', '--json']);
    expect(m5.code).toBe(0);
  });

  it('sends 1200 rows with --chunk-rows 500 in 3 requests under one batch id', async () => {
    writeFileSync(join(rt.workDir, 'big.csv'), offboardCsv('big', 1200));
    const { spy, calls } = batchSpy();

    const run = await rt.cli(['batch', 'big.csv', '--chunk-rows', '500'], { fetch: spy });

    expect(run.code).toBe(0);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((url) => url.searchParams.get('batchId'))).size).toBe(1);
    expect(run.stdout).toContain('rows      1200 in 3 requests');
    expect(run.stdout).toContain('accepted  1200 (1200 new, 0 accepted before)');
  });

  it('continues an interrupted upload after its last completed chunk, under the same batch id', async () => {
    const file = join(rt.workDir, 'resume.csv');
    writeFileSync(file, offboardCsv('res', 1200));
    const outage = () =>
      new Response(
        JSON.stringify({ error: 'queue_unavailable', message: 'the events could not be queued' }),
        {
          status: 503,
          headers: { 'content-type': 'application/json' },
        },
      );
    // The second chunk fails on every attempt of the first run.
    const first = batchSpy((call) => (call >= 2 ? outage() : undefined));

    const interrupted = await rt.cli(['batch', 'resume.csv', '--chunk-rows', '500'], { fetch: first.spy });

    expect(interrupted.code).toBe(1);
    expect(interrupted.stderr).toContain('the events could not be queued');
    expect(interrupted.stderr).toContain('sent 1 of 3 chunks (500 rows)');
    expect(interrupted.stderr).toContain('run the same command again to continue');
    const saved = JSON.parse(readFileSync(`${file}.progress.json`, 'utf8')) as {
      batchId: string;
      chunksDone: number;
    };
    expect(saved.chunksDone).toBe(1);
    expect(first.calls[0]!.searchParams.get('batchId')).toBe(saved.batchId);

    const second = batchSpy();
    const resumed = await rt.cli(['batch', 'resume.csv', '--chunk-rows', '500'], { fetch: second.spy });

    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(
      `continuing batch ${saved.batchId}: 1 of 3 chunks (500 rows) were sent before`,
    );
    expect(second.calls).toHaveLength(2);
    expect(second.calls.map((url) => url.searchParams.get('batchId'))).toEqual([
      saved.batchId,
      saved.batchId,
    ]);
    expect(resumed.stdout).toContain(`→ batch ${saved.batchId}`);
    expect(resumed.stdout).toContain('rows      1200 in 3 requests');
    expect(resumed.stdout).toContain('accepted  1200 (1200 new, 0 accepted before)');
    expect(existsSync(`${file}.progress.json`)).toBe(false);
  });

  it('starts over with --restart: a new batch id, and rows sent before come back as duplicates', async () => {
    const file = join(rt.workDir, 'restart.csv');
    writeFileSync(file, offboardCsv('rst', 30));
    const first = batchSpy((call) => (call >= 2 ? new Response('{}', { status: 500 }) : undefined));
    expect((await rt.cli(['batch', 'restart.csv', '--chunk-rows', '10'], { fetch: first.spy })).code).toBe(1);
    const oldId = first.calls[0]!.searchParams.get('batchId');

    const second = batchSpy();
    const run = await rt.cli(['batch', 'restart.csv', '--chunk-rows', '10', '--restart'], {
      fetch: second.spy,
    });

    expect(run.code).toBe(0);
    expect(second.calls).toHaveLength(3);
    expect(second.calls[0]!.searchParams.get('batchId')).not.toBe(oldId);
    expect(run.stdout).toContain('accepted  30 (20 new, 10 accepted before)');
  });

  it('refuses to continue when the file changed since the interrupted upload', async () => {
    const file = join(rt.workDir, 'changed.csv');
    writeFileSync(file, offboardCsv('chg', 20));
    const first = batchSpy((call) => (call >= 2 ? new Response('{}', { status: 500 }) : undefined));
    await rt.cli(['batch', 'changed.csv', '--chunk-rows', '10'], { fetch: first.spy });
    writeFileSync(file, offboardCsv('chg', 21));

    const run = await rt.cli(['batch', 'changed.csv']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('changed.csv changed since its upload');
    expect(run.stderr).toContain('--restart');
  });

  it('with --strict checks the whole file first and sends nothing when a row is invalid', async () => {
    const rows = offboardCsv('str', 30).trimEnd().split('\n');
    rows[25] = 'str-25,offboard,nobody-at-example.com';
    rows.push('str-1,offboard,again@example.com');
    writeFileSync(join(rt.workDir, 'strict.csv'), `${rows.join('\n')}\n`);
    const { spy, calls } = batchSpy();

    const run = await rt.cli(['batch', 'strict.csv', '--strict', '--chunk-rows', '10'], { fetch: spy });

    expect(run.code).toBe(2);
    expect(calls).toHaveLength(0);
    expect(run.stdout).toContain('strict.csv: 2 of 31 rows are invalid and --strict is on: nothing was sent');
    expect(run.stdout).toContain('  line 26: email: must be an email address');
    expect(run.stdout).toContain('  line 32: duplicate id of line 2 (str-1)');
  });

  it('with --strict sends a valid file in chunks with strict=true', async () => {
    writeFileSync(join(rt.workDir, 'strict-ok.csv'), offboardCsv('sok', 25));
    const { spy, calls } = batchSpy();

    const run = await rt.cli(['batch', 'strict-ok.csv', '--strict', '--chunk-rows', '10'], { fetch: spy });

    expect(run.code).toBe(0);
    expect(calls.map((url) => url.searchParams.get('strict'))).toEqual(['true', 'true', 'true']);
    expect(run.stdout).toContain('accepted  25 (25 new, 0 accepted before)');
  });

  it('uploads a JSON Lines file', async () => {
    const line = (i: number) =>
      JSON.stringify({
        id: `nd-${i}`,
        type: 'offboard',
        employee: { id: `nd-${i}`, email: `nd${i}@example.com` },
      });
    writeFileSync(join(rt.workDir, 'people.jsonl'), [line(1), line(2), '{"id":"nd-3"}', line(4)].join('\n'));

    const run = await rt.cli(['batch', 'people.jsonl', '--chunk-rows', '3']);

    expect(run.code).toBe(2);
    expect(run.stdout).toContain('accepted  3 (3 new, 0 accepted before)');
    expect(run.stdout).toContain(
      '  line 3: type: must be one of hire, role_change, offboard; employee: is required',
    );
  });

  it('names a missing file and a chunk size out of range', async () => {
    const missing = await rt.cli(['batch', 'nowhere.csv']);
    const tooBig = await rt.cli(['batch', 'big.csv', '--chunk-rows', '9000']);

    expect(missing.stderr).toBe('error: cannot read nowhere.csv: no such file\n');
    expect(tooBig.stderr).toContain('--chunk-rows must be a whole number from 1 to 5000 (got "9000")');
  });
});
