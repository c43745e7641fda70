import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from './support/cli-harness';

const SAMPLES = join(import.meta.dirname, '../../samples');

const hire = (id: string, email: string) => ({
  id,
  type: 'hire',
  occurredAt: '2026-11-02T09:00:00Z',
  employee: { id: `E-${id}`, email },
});

describe('hr-provisioning send', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime();
  });
  afterAll(async () => {
    await rt.close();
  });

  it('sends a JSON Lines file with the token it finds in the data dir, one line per event', async () => {
    const run = await rt.cli(['send', join(SAMPLES, 'events.jsonl')]);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.slice(0, 5)).toEqual([
      'evt-0001  queued',
      'evt-0002  queued',
      'evt-0003  queued',
      'evt-0004  queued',
      'evt-0005  queued',
    ]);
    expect(lines[5]).toContain('5 event(s) accepted in 1 request: 5 new, 0 duplicate(s)');
  });

  it('marks events sent before as duplicates', async () => {
    const file = join(rt.workDir, 'again.jsonl');
    writeFileSync(file, `${JSON.stringify(hire('dup-1', 'dup1@example.com'))}\n`);
    await rt.cli(['send', file]);

    const run = await rt.cli(['send', 'again.jsonl']);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^dup-1 {2}\w+ {2}\(duplicate\)$/m);
    expect(run.stdout).toContain('0 new, 1 duplicate(s)');
  });

  it('sends a JSON file holding {"events": [...]} and one holding a single event', async () => {
    writeFileSync(
      join(rt.workDir, 'wrapped.json'),
      JSON.stringify(
        { events: [hire('json-1', 'j1@example.com'), hire('json-2', 'j2@example.com')] },
        null,
        2,
      ),
    );
    writeFileSync(join(rt.workDir, 'single.json'), JSON.stringify(hire('json-3', 'j3@example.com')));

    const wrapped = await rt.cli(['send', 'wrapped.json']);
    const single = await rt.cli(['send', 'single.json']);

    expect(wrapped.code).toBe(0);
    expect(wrapped.stdout).toContain('json-1  queued\njson-2  queued\n');
    expect(single.code).toBe(0);
    expect(single.stdout).toContain('json-3  queued\n');
  });

  it('maps a 400 back to the lines of a JSON Lines file, and nothing of the refused request is accepted', async () => {
    const lines = [
      JSON.stringify(hire('bad-1', 'ok1@example.com')),
      '',
      JSON.stringify(hire('bad-2', 'not-an-email')),
      JSON.stringify({ ...hire('bad-3', 'ok3@example.com'), type: 'promotion' }),
    ];
    writeFileSync(join(rt.workDir, 'bad.jsonl'), `${lines.join('\n')}\n`);

    const run = await rt.cli(['send', 'bad.jsonl']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('none of its 3 event(s) were accepted');
    expect(run.stderr).toContain('  line 3 (bad-2): employee.email: must be an email address');
    expect(run.stderr).toContain('  line 4 (bad-3): type: must be one of hire, role_change, offboard');
    expect(run.stderr).toContain('fix the lines above and send the file again');
    const status = await rt.cli(['status', 'bad-1']);
    expect(status.stderr).toContain('no event "bad-1" was ever accepted');
  });

  it('maps a 400 back to the line where the event starts in a pretty-printed JSON array', async () => {
    const events = [hire('arr-1', 'a1@example.com'), hire('arr-2', 'broken')];
    writeFileSync(join(rt.workDir, 'array.json'), JSON.stringify(events, null, 2));

    const run = await rt.cli(['send', 'array.json']);

    expect(run.code).toBe(1);
    // [ on line 1; the first event spans lines 2-10, the second starts on line 11.
    expect(run.stderr).toContain('  line 11 (arr-2): employee.email: must be an email address');
  });

  it('refuses a JSON Lines file with a line that is not JSON before sending anything', async () => {
    writeFileSync(
      join(rt.workDir, 'broken.jsonl'),
      `${JSON.stringify(hire('nj-1', 'nj@example.com'))}\n{oops\n`,
    );

    const run = await rt.cli(['send', 'broken.jsonl']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('broken.jsonl: 1 line(s) are not JSON; nothing was sent');
    expect(run.stderr).toContain('  line 2:');
    expect((await rt.cli(['status', 'nj-1'])).code).toBe(1);
  });

  it('splits more than 500 events into several requests', async () => {
    const many = Array.from({ length: 620 }, (_, i) =>
      JSON.stringify({ ...hire(`many-${i}`, `m${i}@example.com`), type: 'offboard' }),
    );
    writeFileSync(join(rt.workDir, 'many.jsonl'), many.join('\n'));
    const bodies: number[] = [];
    const counting: typeof fetch = async (input, init) => {
      bodies.push((JSON.parse(String(init?.body)) as { events: unknown[] }).events.length);
      return fetch(input, init);
    };

    const run = await rt.cli(['send', 'many.jsonl'], { fetch: counting });

    expect(run.code).toBe(0);
    expect(bodies).toEqual([500, 120]);
    expect(run.stdout).toContain('620 event(s) accepted in 2 requests');
  });
});
