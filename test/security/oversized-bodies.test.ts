import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox';
import { BAMBOOHR_KEY, bamboohrSigned, signed, WEBHOOK_SECRET } from '../support/ingest-harness';
import { api, type RuntimeProcess, removeDataDir, startRuntimeProcess } from '../support/runtime-process';

/*
 * Issue 14: oversized and deeply nested bodies on the three routes HR systems post to, against `npm start`
 * as a child process: a clear 413 or 400 naming the problem, nothing recorded or enqueued, and the process
 * still up and answering afterwards. Callers here hold valid credentials (the token, a Standard Webhooks or
 * a BambooHR signature), so the route's own limit is what stops them; what an unauthenticated caller may
 * send (64 KiB) and a body only declared too large are in test/e2e/runtime-trust-boundaries.test.ts, and
 * the limits in-process in test/ingest/post-events.test.ts, post-batch.test.ts and trust-boundaries.test.ts.
 */

let sandbox: Sandbox;
let runtime: RuntimeProcess;

beforeAll(async () => {
  sandbox = await startSandbox();
  runtime = await startRuntimeProcess({
    TFY_BASE_URL: sandbox.url,
    TFY_API_KEY: sandbox.apiKey,
    WEBHOOK_SECRET,
    BAMBOOHR_WEBHOOK_KEY: BAMBOOHR_KEY,
    LOG_LEVEL: 'INFO',
  });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  if (runtime) removeDataDir(runtime.dataDir);
  await sandbox?.close();
});

type Upload = { status: number; json: Record<string, unknown> };

/**
 * Posts `body` in 64 KiB writes, as a client streaming a large file does, declaring its length or chunked,
 * and stops writing once the answer has come: the server answers a body past its limit without reading
 * the rest, and closes the connection, which a plain fetch reports as a failed write instead of the answer.
 */
function upload(
  path: string,
  headers: Record<string, string>,
  body: Buffer,
  framing: 'content-length' | 'chunked',
): Promise<Upload> {
  const { hostname, port } = new URL(runtime.url);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      {
        host: hostname,
        port,
        path,
        method: 'POST',
        headers: {
          ...headers,
          // With a length, the client waits for the server's word (100 Continue) before sending the body, as
          // curl does for large uploads: a body refused on its declared length is then never sent at all.
          ...(framing === 'content-length'
            ? { 'content-length': String(body.length), expect: '100-continue' }
            : { 'transfer-encoding': 'chunked' }),
        },
      },
      (res) => {
        answered = true;
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> });
        });
      },
    );
    // Once answered, a write into the closed connection is expected to fail.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const CHUNK = 64 * 1024;
    let offset = 0;
    const writeMore = () => {
      while (!answered && offset < body.length) {
        const more = req.write(body.subarray(offset, offset + CHUNK));
        offset += CHUNK;
        if (!more) return void req.once('drain', writeMore);
      }
      if (!answered) req.end();
    };
    if (framing === 'content-length') req.once('continue', writeMore);
    else writeMore();
  });
}

const MIB = 1024 * 1024;
const bearer = () => ({ authorization: `Bearer ${runtime.token}` });
/** A JSON body of exactly `bytes`: valid JSON, padded with spaces, so only its size is wrong. */
const paddedJson = (bytes: number) => {
  const shell = '{"events":[]}';
  return Buffer.from(`{"events":[${' '.repeat(bytes - shell.length)}]}`);
};
/** Lines of CSV past `bytes`: every row valid, so only the size is wrong. */
const largeCsv = (bytes: number) => {
  const rows = ['id,type,email'];
  let size = rows[0]!.length + 1;
  for (let i = 0; size <= bytes; i++) {
    const row = `big-${i},hire,big.${i}@example.com`;
    rows.push(row);
    size += row.length + 1;
  }
  return Buffer.from(`${rows.join('\n')}\n`);
};
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

async function expectUpAndEmpty(): Promise<void> {
  expect((await fetch(`${runtime.url}/healthz`)).status).toBe(200);
  const listed = await api(runtime, 'GET', '/events?limit=500');
  expect(listed.json.events).toEqual([]);
  expect(sandbox.calls()).toEqual([]);
}

describe('oversized bodies from callers who may post: 413 naming the limit, nothing recorded', () => {
  const events = paddedJson(MIB + 1);
  const webhook = paddedJson(MIB + 1);
  const csv = largeCsv(5 * MIB + 1);
  const cases: [string, string, () => Record<string, string>, Buffer, RegExp][] = [
    [
      'POST /events, bearer token',
      '/events',
      () => ({ ...bearer(), 'content-type': 'application/json' }),
      events,
      /takes at most 1 MiB/,
    ],
    [
      'POST /events, Standard Webhooks signature',
      '/events',
      () => ({ ...signed(events.toString()), 'content-type': 'application/json' }),
      events,
      /takes at most 1 MiB/,
    ],
    [
      'POST /batch, bearer token',
      '/batch',
      () => ({ ...bearer(), 'content-type': 'text/csv' }),
      csv,
      /takes at most 5 MiB/,
    ],
    [
      'POST /webhooks/bamboohr, BambooHR signature',
      '/webhooks/bamboohr',
      () => ({ ...bamboohrSigned(webhook.toString()), 'content-type': 'application/json' }),
      webhook,
      /takes at most 1 MiB/,
    ],
  ];

  it.each(cases)('%s, length declared', async (_name, path, headers, body, rule) => {
    const answer = await upload(path, headers(), body, 'content-length');

    expect(answer.status).toBe(413);
    expect(answer.json).toEqual({ error: 'body_too_large', message: expect.stringMatching(rule) });
    await expectUpAndEmpty();
  });

  it.each(cases)('%s, chunked (no length to refuse up front)', async (_name, path, headers, body, rule) => {
    const answer = await upload(path, headers(), body, 'chunked');

    expect(answer.status).toBe(413);
    expect(answer.json).toEqual({
      error: 'body_too_large',
      message: expect.stringMatching(/^the body is larger than \d+ bytes; /),
    });
    expect(answer.json.message).toMatch(rule);
    await expectUpAndEmpty();
  });

  it('ten 5 MiB uploads at once: each refused, and the process answers after', async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        upload('/batch', { ...bearer(), 'content-type': 'text/csv' }, csv, 'chunked'),
      ),
    );

    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(413));
    await expectUpAndEmpty();
  });
});

describe('deeply nested bodies: 400 naming the depth, nothing recorded', () => {
  it('POST /events: objects nested 100,000 deep', async () => {
    const answer = await api(runtime, 'POST', '/events', deepObject(100_000));

    expect(answer).toEqual({
      status: 400,
      json: { error: 'malformed_json', message: 'JSON nested deeper than 64 levels at line 1, column 321' },
    });
    await expectUpAndEmpty();
  });

  it('POST /batch: a JSON line nested 100,000 deep is rejected by its line number', async () => {
    const ndjson = `${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    const answer = await api(runtime, 'POST', '/batch', ndjson, 'application/x-ndjson');

    expect(answer.status).toBe(202);
    expect(answer.json).toMatchObject({
      accepted: 0,
      rejected: [{ line: 1, error: 'invalid JSON: nested deeper than 64 levels' }],
    });
    await expectUpAndEmpty();
  });

  it('POST /webhooks/bamboohr: a signed delivery nested 100,000 deep', async () => {
    const body = `{"employees":[${deepObject(100_000)}]}`;
    const answer = await upload(
      '/webhooks/bamboohr',
      { ...bamboohrSigned(body), 'content-type': 'application/json' },
      Buffer.from(body),
      'content-length',
    );

    expect(answer).toEqual({
      status: 400,
      json: {
        error: 'malformed_json',
        message: expect.stringMatching(/^JSON nested deeper than 64 levels at line 1, column \d+$/),
      },
    });
    await expectUpAndEmpty();
  });

  it('after all of it, the runtime never logged a crash', () => {
    expect(runtime.output()).not.toMatch(
      /RangeError|Maximum call stack|heap out of memory|ingest request failed/,
    );
    expect(runtime.output()).toMatch(/"status":400/);
  });
});
