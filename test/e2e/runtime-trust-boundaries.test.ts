import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox';
import { hireEvent, signed, WEBHOOK_SECRET } from '../support/ingest-harness';
import {
  api,
  newDataDir,
  type RuntimeProcess,
  removeDataDir,
  startRuntimeProcess,
  waitFor,
} from '../support/runtime-process';

/*
 * Issue 10, trust boundaries, through `npm start` as a child process against the sandbox: credentials
 * bound to their routes, webhook-ids, emails at the edge, nesting, bodies read only after authentication,
 * and weak secrets refused at start-up.
 */

let sandbox: Sandbox;
let runtime: RuntimeProcess;

beforeAll(async () => {
  sandbox = await startSandbox();
  runtime = await startRuntimeProcess({
    TFY_BASE_URL: sandbox.url,
    TFY_API_KEY: sandbox.apiKey,
    TFY_RATE_LIMIT_RPS: '200',
    WEBHOOK_SECRET,
  });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  removeDataDir(runtime.dataDir);
  await sandbox?.close();
});

type Answer = { status: number; json: Record<string, unknown> };

/** A request with exactly these headers (no bearer token unless given). */
async function call(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const signedPost = (body: string, id?: string) => {
  const headers = signed(body, WEBHOOK_SECRET, Math.floor(Date.now() / 1000), id);
  return call('POST', '/events', { 'content-type': 'application/json', ...headers }, body);
};

async function settled(id: string): Promise<Record<string, unknown>> {
  return waitFor(`${id} to end`, async () => {
    const { json } = await api(runtime, 'GET', `/events/${id}`);
    return ['succeeded', 'superseded', 'failed'].includes(json.status as string) ? json : undefined;
  });
}

describe('credentials are bound to their routes', () => {
  it('signed headers of a POST /events, replayed on GET /events, GET /events/{id}, GET /dlq and POST /dlq/redrive → 401', async () => {
    const body = JSON.stringify(hireEvent('tb-signed-1', 'tb.signed@example.com'));
    const headers = {
      'content-type': 'application/json',
      ...signed(body, WEBHOOK_SECRET, Math.floor(Date.now() / 1000), 'msg_tb_routes'),
    };
    expect((await call('POST', '/events', headers, body)).status).toBe(202);

    const replays = [
      ['GET', '/events', undefined],
      ['GET', '/events/tb-signed-1', undefined],
      ['GET', '/dlq', undefined],
      ['POST', '/dlq/redrive', body],
    ] as const;
    for (const [method, path, withBody] of replays) {
      const answer = await call(method, path, headers, withBody);
      expect(answer.status, `${method} ${path}`).toBe(401);
      expect(answer.json).toEqual({
        error: 'unauthorized',
        message: expect.stringContaining(`webhook signature authorises only the signed ingest routes`),
      });
      expect(answer.json.message).toContain(`not ${method} ${path}`);
      expect(JSON.stringify(answer.json)).not.toContain('tb.signed@example.com');
    }
    // The bearer token still opens them, and the replayed redrive moved nothing.
    expect((await api(runtime, 'GET', '/dlq')).status).toBe(200);
    expect(await settled('tb-signed-1')).toMatchObject({ status: 'succeeded', source: 'webhook' });
  });

  it('a replayed webhook-id with a different body → 409 naming it; nothing of it is recorded or provisioned', async () => {
    const first = JSON.stringify(hireEvent('tb-wh-1', 'tb.first@example.com'));
    expect((await signedPost(first, 'msg_tb_replay')).status).toBe(202);
    const forged = JSON.stringify(hireEvent('tb-wh-2', 'tb.forged@example.com'));
    const refused = await signedPost(forged, 'msg_tb_replay');

    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({
      error: 'webhook_id_reused',
      message: expect.stringContaining('webhook-id msg_tb_replay was already used for a different request'),
    });
    expect((await api(runtime, 'GET', '/events/tb-wh-2')).status).toBe(404);
    // The same message again (the sender's retry) goes through as a duplicate.
    const retry = await signedPost(first, 'msg_tb_replay');
    expect(retry).toMatchObject({ status: 202, json: { events: [{ id: 'tb-wh-1', duplicate: true }] } });
    await settled('tb-wh-1');
    expect(sandbox.users().map((u) => u.email)).not.toContain('tb.forged@example.com');
  });
});

const BAD_EMAILS: [string, string, RegExp][] = [
  ['a Cyrillic look-alike letter', '\u0430da.tb@example.com', /must be ASCII: U\+0430/],
  ['a NUL', 'ada.tb\u0000@example.com', /U\+0000/],
  ['a 5,000-character local part', `${'a'.repeat(5000)}@example.com`, /at most 254 characters/],
  ['angle brackets', '<ada.tb@example.com>', /without a display name or angle brackets/],
  ['a zero-width space', 'ada.tb\u200b@example.com', /U\+200B/],
  ['a right-to-left override', 'ada.tb\u202e@example.com', /U\+202E/],
  ['a terminal escape sequence', 'ada.tb\u001b[31m@example.com', /U\+001B/],
  ['a Unicode domain', 'ada.tb@b\u00fccher.de', /IDNA form \(xn--bcher-kva\.de\)/],
];

describe('emails at the edge', () => {
  it.each(BAD_EMAILS)(
    '%s → 400 naming employee.email, nothing recorded or provisioned',
    async (name, email, reason) => {
      const id = `tb-email-${name.replace(/[^a-z0-9]+/gi, '-')}`;
      const answer = await api(runtime, 'POST', '/events', hireEvent(id, email));

      expect(answer.status).toBe(400);
      expect(answer.json.issues).toEqual([
        { path: 'employee.email', message: expect.stringMatching(reason) },
      ]);
      expect(answer.json.message).toMatch(/employee\.email: /);
      expect((await api(runtime, 'GET', `/events/${id}`)).status).toBe(404);
      expect(sandbox.calls().filter((c) => JSON.stringify(c).includes('ada.tb'))).toEqual([]);
    },
  );

  it('a CSV row with a bad email is rejected naming its column; the good row is provisioned', async () => {
    const csv =
      'id,type,employee_id,email\ntb-csv-1,hire,E-TB1,tb.csv@example.com\ntb-csv-2,hire,E-TB2,<tb.csv2@example.com>\n';
    const answer = await api(runtime, 'POST', '/batch', csv, 'text/csv');

    expect(answer.json).toMatchObject({
      accepted: 1,
      rejected: [{ line: 3, error: expect.stringMatching(/^email: must be a bare address/) }],
    });
    await settled('tb-csv-1');
    expect((await api(runtime, 'GET', '/events/tb-csv-2')).status).toBe(404);
  });
});

describe('bodies', () => {
  it('deeply nested JSON → 400, on POST /events and on POST /dlq/redrive', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const events = await api(runtime, 'POST', '/events', deep);
    // Within the 64 KiB an operator route takes.
    const redrive = await api(runtime, 'POST', '/dlq/redrive', `{"ids":${deep.slice(90_000, 110_000)}}`);

    expect(events).toEqual({
      status: 400,
      json: { error: 'malformed_json', message: 'JSON nested deeper than 64 levels at line 1, column 65' },
    });
    expect(redrive.status).toBe(400);
    expect(redrive.json.message).toMatch(/nested deeper than 64 levels/);
    expect((await call('GET', '/healthz', {})).status).toBe(200);
  });

  /**
   * Sends the headers and the first 64 KiB of a body of `declared` bytes (or chunked), then waits: the
   * answer must come without the rest, which is never sent.
   */
  function partialUpload(
    path: string,
    headers: Record<string, string>,
    declared?: number,
  ): Promise<{ status: number; body: string }> {
    const { hostname, port } = new URL(runtime.url);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: hostname,
          port,
          path,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...headers,
            ...(declared === undefined ? {} : { 'content-length': String(declared) }),
          },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => {
            body += chunk.toString();
          });
          res.on('end', () => {
            clearTimeout(timer);
            req.destroy();
            resolve({ status: res.statusCode ?? 0, body });
          });
        },
      );
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error(`no answer to ${path} before the rest of the body was sent`));
      }, 5_000);
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      // 64 KiB + 1: past what an unauthenticated request may send, far short of the declared size.
      req.write(Buffer.alloc(64 * 1024 + 1, 0x20));
    });
  }

  it('a large unauthenticated body is answered 401 before it is sent, even sixty at once', async () => {
    const FIVE_MIB = 5 * 1024 * 1024;
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => partialUpload(i % 2 ? '/events' : '/batch', {}, FIVE_MIB)),
    );

    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body)).toMatchObject({
        error: 'unauthorized',
        message: expect.stringMatching(/missing credentials/),
      });
    }
    // A wrong token is refused as early.
    const wrong = await partialUpload('/batch', { authorization: 'Bearer not-the-token-at-all' }, FIVE_MIB);
    expect(wrong.status).toBe(401);
    expect((await call('GET', '/healthz', {})).status).toBe(200);
  });

  it('past the limit the server stops reading: 413 for a body declared too large, and for an unsigned BambooHR body past 64 KiB', async () => {
    const tooLarge = await partialUpload(
      '/events',
      { authorization: `Bearer ${runtime.token}` },
      2 * 1024 * 1024,
    );
    expect(tooLarge.status).toBe(413);
    expect(JSON.parse(tooLarge.body).message).toMatch(/POST \/events takes at most 1 MiB/);

    const signedButLarge = await partialUpload('/events', signed('{}'), 2 * 1024 * 1024);
    expect(signedButLarge.status).toBe(413);

    // Chunked: no length to refuse up front, so the server reads 64 KiB and answers at the next byte.
    const unsigned = await partialUpload('/webhooks/bamboohr', { 'transfer-encoding': 'chunked' });
    expect(unsigned.status).toBe(413);
    expect(JSON.parse(unsigned.body).message).toMatch(/at most 64 KiB before the request is authenticated/);
  });
});

describe('weak secrets: the runtime refuses to start, naming the variable and never the value', () => {
  const weakWebhookSecret = `whsec_${Buffer.from('k').toString('base64')}`;
  it.each([
    ['WEBHOOK_SECRET', { WEBHOOK_SECRET: weakWebhookSecret }, weakWebhookSecret, /at least 24 random bytes/],
    [
      'BAMBOOHR_WEBHOOK_KEY',
      { BAMBOOHR_WEBHOOK_KEY: 'bamboo-short' },
      'bamboo-short',
      /at least 16 characters/,
    ],
    [
      'TFY_BASE_URL',
      { TFY_BASE_URL: 'http://acme.truefoundry.cloud', TFY_API_KEY: 'tfy-key-for-the-test' },
      'tfy-key-for-the-test',
      /must be https \(the API key travels with every call\)/,
    ],
  ])(
    '%s',
    async (variable, env, secret, reason) => {
      const dataDir = newDataDir();
      try {
        const started = startRuntimeProcess(env, dataDir);
        const failure = await started.then(
          async (unexpected) => {
            await unexpected.stop();
            return 'it started';
          },
          (error: Error) => error.message,
        );
        expect(failure).toMatch(/runtime exited with 1 before listening/);
        expect(failure).toMatch(new RegExp(`Cannot start: invalid environment: ${variable}: `));
        expect(failure).toMatch(reason);
        expect(failure).not.toContain(secret);
      } finally {
        removeDataDir(dataDir);
      }
    },
    60_000,
  );
});
