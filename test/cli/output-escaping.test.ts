import { describe, expect, it } from 'vitest';
import { formatTable, printable, printableLines } from '../../bin/cli/output';
import { runCapturing } from './support/cli-harness';

const ESC = '\u001b';
const RLO = '\u202e';
/** Anything a terminal would act on, or that hides or reorders text: none may reach the output raw. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what the test looks for
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

describe('printable', () => {
  it.each([
    ['ESC', `a${ESC}[31mb`, 'a\\x1b[31mb'],
    ['NUL', 'a\u0000b', 'a\\x00b'],
    ['DEL', 'a\u007fb', 'a\\u007fb'],
    ['a C1 control (CSI)', 'a\u009bb', 'a\\u009bb'],
    ['a right-to-left override', `a${RLO}b`, 'a\\u202eb'],
    ['a zero-width space', 'a\u200bb', 'a\\u200bb'],
    ['a line break and a tab', 'a\nb\tc', 'a\\x0ab\\x09c'],
    ['a tag character', 'a\u{e0041}b', 'a\\udb40\\udc41b'],
  ])('shows %s as an escape', (_name, input, shown) => {
    expect(printable(input)).toBe(shown);
  });

  it('leaves ordinary text, accents and backslashes as they are', () => {
    expect(printable('Seán Ó Brádaigh <sean@example.com> C:\\path 100%')).toBe(
      'Seán Ó Brádaigh <sean@example.com> C:\\path 100%',
    );
  });

  it('keeps line breaks between lines, and JSON valid', () => {
    const json = JSON.stringify({ email: `a${RLO}${ESC}\u0085\u007f@x` }, null, 2);
    const shown = printableLines(json);
    expect(shown).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(shown)).toEqual(JSON.parse(json));
  });

  it('tables measure the escaped cells, so columns stay aligned', () => {
    const [header, row, next] = formatTable(
      ['A', 'B'],
      [
        [`x${ESC}y`, '1'],
        ['z', '2'],
      ],
    );
    expect(row).toBe('x\\x1by  1');
    expect(next?.lastIndexOf('2')).toBe(row?.lastIndexOf('1'));
    expect(header).toBe('A       B');
  });
});

/** A fake API that answers each path with JSON. */
function fakeApi(answers: Record<string, { status: number; body: unknown }>): typeof fetch {
  return (async (input: string | URL | Request) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const answer = answers[url.pathname] ?? { status: 404, body: { error: 'not_found', message: 'none' } };
    return new Response(JSON.stringify(answer.body), {
      status: answer.status,
      headers: { 'content-type': 'application/json' },
    });
  }) as typeof fetch;
}

const hostile = {
  id: `evt-1`,
  status: 'failed',
  type: 'hire',
  occurredAt: '2026-11-02T09:00:00.000Z',
  employee: { id: `E1${ESC}]0;owned${'\u0007'}`, email: `ada${RLO}moc.elpmaxe@x` },
  person: 'id:E1',
  source: 'token',
  attempts: 1,
  steps: [
    {
      key: 'create',
      action: 'register',
      email: `ada${ESC}[2J@x`,
      outcome: 'failed',
      httpStatus: 422,
      attempt: 1,
      startedAt: '2026-11-02T09:00:01.000Z',
      durationMs: 12,
      error: `bad\nfake line${ESC}[1A`,
    },
  ],
  error: `TrueFoundry said ${ESC}[31mred\r\n  status     succeeded`,
  receivedAt: '2026-11-02T09:00:00.000Z',
  updatedAt: '2026-11-02T09:00:02.000Z',
};

const env = { HRP_URL: 'http://127.0.0.1:9', INGEST_TOKEN: 'x'.repeat(20) };

describe('hr-provisioning prints what the server sent, escaped', () => {
  it('status: no escape sequence or bidi control reaches the terminal; a line break cannot fake a line', async () => {
    const run = await runCapturing(['status', 'evt-1'], {
      env,
      cwd: '/',
      fetch: fakeApi({ '/events/evt-1': { status: 200, body: hostile } }),
    });

    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    expect(run.stdout).toContain('  employee   E1\\x1b]0;owned\\x07 <ada\\u202emoc.elpmaxe@x>');
    expect(run.stdout).toContain('ada\\x1b[2J@x');
    expect(run.stdout).toContain(
      '  error      TrueFoundry said \\x1b[31mred\\x0d\\x0a  status     succeeded',
    );
    expect(run.stdout.split('\n').filter((line) => line.trimStart().startsWith('status'))).toEqual([]);
  });

  it('status --json stays JSON and escapes what JSON.stringify leaves raw', async () => {
    const run = await runCapturing(['status', 'evt-1', '--json'], {
      env,
      cwd: '/',
      fetch: fakeApi({ '/events/evt-1': { status: 200, body: hostile } }),
    });

    expect(run.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(run.stdout)).toEqual(hostile);
  });

  it('events: the table escapes its cells', async () => {
    const run = await runCapturing(['events'], {
      env,
      cwd: '/',
      fetch: fakeApi({ '/events': { status: 200, body: { events: [hostile] } } }),
    });

    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    expect(run.stdout).toContain('ada\\u202emoc.elpmaxe@x');
  });

  it('dlq list: the table escapes its cells', async () => {
    const letters = [
      {
        eventId: 'evt-1',
        employeeKey: `id:E1${RLO}`,
        reason: `boom ${ESC}[5m`,
        deadAt: hostile.updatedAt,
        receiveCount: 5,
      },
    ];
    const run = await runCapturing(['dlq', 'list'], {
      env,
      cwd: '/',
      fetch: fakeApi({ '/dlq': { status: 200, body: { deadLetters: letters } } }),
    });

    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    expect(run.stdout).toContain('id:E1\\u202e');
    expect(run.stdout).toContain('boom \\x1b[5m');
  });

  it('error messages from the server are escaped too', async () => {
    const run = await runCapturing(['status', 'evt-1'], {
      env,
      cwd: '/',
      fetch: fakeApi({
        '/events/evt-1': {
          status: 400,
          body: { error: 'x', message: `no ${ESC}]52;c;cGF5bG9hZA==${'\u0007'}` },
        },
      }),
    });

    expect(run.code).toBe(1);
    expect(run.stderr).not.toMatch(RAW_CONTROL);
    expect(run.stderr).toContain('no \\x1b]52;c;cGF5bG9hZA==\\x07');
  });
});
