import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrueFoundryUsersClient } from '../../functions/core/truefoundry/client';
import { CredentialedUsersApiProvider } from '../../functions/core/truefoundry/credentials';
import { runCapturing, startTestRuntime, type TestRuntime } from '../cli/support/cli-harness';
import { bearer, hireEvent, ingestFor, jsonRequest, signed } from '../support/ingest-harness';

/*
 * Issue 14: header injection. A CR or LF in a value that ends up in an HTTP header could add a header of its
 * own (a Set-Cookie, a second Authorization) or split the message. Three places put values in headers:
 * the ingest's responses (every header is a constant: checked here against hostile requests, in the app
 * and on the wire), the CLI's requests (the token: refused when it holds a line break or control
 * character) and the TrueFoundry client's requests (the API key: refused the same way when the client is
 * built). The last two were holes: fetch refused the header, but its error quoted the whole header, secret
 * included, into the CLI's message and the worker's logs and step errors.
 */

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
/** A header value as RFC 9110 allows it, printable ASCII and tabs: no CR, LF or NUL. */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
/** Every header name the ingest ever sets; anything else came from a request. */
const INGEST_HEADERS = new Set(['content-type', 'cache-control', 'www-authenticate', 'allow', 'retry-after']);

function expectSafeHeaders(headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) {
    expect(name).toMatch(HEADER_NAME);
    expect(INGEST_HEADERS.has(name), name).toBe(true);
    expect(value, name).toMatch(HEADER_VALUE);
  }
}

const CRLF_SET_COOKIE = '\r\nSet-Cookie: session=attacker';

describe('ingest responses: only constant headers, whatever the request holds', () => {
  it('CR/LF in the path, the query, the content type, a webhook-id and the body reach no response header', async () => {
    const ingest = ingestFor();
    const body = JSON.stringify(hireEvent(`hi-1${CRLF_SET_COOKIE}`));
    const requests = [
      { method: 'GET', path: `/events/evt-1${CRLF_SET_COOKIE}`, headers: { authorization: 'Bearer nope' } },
      { method: 'DELETE', path: `/events${CRLF_SET_COOKIE}` },
      { method: 'DELETE', path: '/events' },
      { method: 'GET', path: '/events', query: { status: `failed${CRLF_SET_COOKIE}` }, headers: {} },
      jsonRequest('/events', body),
      {
        ...jsonRequest('/events', body),
        headers: { ...bearer(), 'content-type': `text/plain${CRLF_SET_COOKIE}` },
      },
      jsonRequest('/events', body, { ...signed(body), 'webhook-id': `msg_1${CRLF_SET_COOKIE}` }),
      jsonRequest('/events', body, signed(body, undefined, undefined, `msg_1${CRLF_SET_COOKIE}`)),
      jsonRequest('/webhooks/bamboohr', body, { 'x-bamboohr-signature': `00${CRLF_SET_COOKIE}` }),
    ];
    const statuses: number[] = [];
    for (const request of requests) {
      const response = await ingest.call(request);
      statuses.push(response.status);
      expectSafeHeaders(response.headers);
    }
    // Refused in every way there is, and not one of them took the request in.
    expect(statuses).toEqual([401, 404, 405, 401, 400, 415, 401, 400, 401]);
    expect(ingest.queue.sent).toEqual([]);
  });
});

/** One raw HTTP/1.1 exchange: what the server wrote, headers and body, as bytes on the wire. */
function rawExchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('the local server, on the wire', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime();
  });
  afterAll(async () => {
    await rt.close();
  });

  it('a percent-encoded CR/LF in the path is answered with the ingest headers only', async () => {
    const token = rt.runtime.credentials.ingestToken ?? '';
    const answers = await Promise.all(
      [
        '/events/evt-1%0d%0aSet-Cookie:%20session=attacker',
        '/nope%0D%0ASet-Cookie:%20session=attacker',
        '/events?status=failed%0d%0aSet-Cookie:%20session=attacker',
      ].map((path) =>
        rawExchange(
          rt.runtime.url,
          `GET ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
        ),
      ),
    );

    for (const answer of answers) {
      const head = answer.slice(0, answer.indexOf('\r\n\r\n'));
      const names = head
        .split('\r\n')
        .slice(1)
        .map((line) => line.slice(0, line.indexOf(':')).toLowerCase());
      expect(head).toMatch(/^HTTP\/1\.1 (400|404) /);
      expect(names).not.toContain('set-cookie');
      expect(
        names.filter((n) => !['date', 'connection', 'keep-alive', 'content-length'].includes(n)),
      ).toEqual(expect.arrayContaining(['content-type', 'cache-control']));
    }
  });

  it('a raw CR inside a request header is refused by the server (400), and it stays up', async () => {
    const answer = await rawExchange(
      rt.runtime.url,
      'GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Test: a\rSet-Cookie: b\r\nConnection: close\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect((await fetch(`${rt.runtime.url}/healthz`)).status).toBe(200);
  });
});

describe('the CLI: a token that cannot travel in a header is refused, never sent and never shown', () => {
  const TOKEN = 'cli-token-0123456789';
  const sent: Request[] = [];
  const recordingFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    sent.push(new Request(input, init));
    return new Response(JSON.stringify({ events: [] }), { status: 200 });
  }) as typeof fetch;

  it.each([
    ['INGEST_TOKEN with CR/LF and a header after it', { INGEST_TOKEN: `${TOKEN}${CRLF_SET_COOKIE}` }, []],
    ['INGEST_TOKEN with a trailing newline', { INGEST_TOKEN: `${TOKEN}\n` }, []],
    ['INGEST_TOKEN with a NUL', { INGEST_TOKEN: `${TOKEN}\u0000` }, []],
    ['--token with a line break', {}, ['--token', `${TOKEN}\nX-Injected: 1`]],
  ])('%s → exit 1 naming the rule, nothing sent', async (_name, env, extra) => {
    sent.length = 0;
    const run = await runCapturing(['events', ...extra], {
      env: { HRP_URL: 'https://hr.example.com', ...env },
      cwd: '/',
      fetch: recordingFetch,
    });

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the token holds a line break, control or non-ASCII character/);
    expect(run.stderr).not.toContain(TOKEN);
    expect(run.stdout).toBe('');
    expect(sent).toEqual([]);
  });

  it('a good token goes out alone, and ids with CR/LF are percent-encoded into the path', async () => {
    sent.length = 0;
    await runCapturing(['status', `evt-1${CRLF_SET_COOKIE}`], {
      env: { HRP_URL: 'https://hr.example.com', INGEST_TOKEN: TOKEN },
      cwd: '/',
      fetch: recordingFetch,
    });

    expect(sent).toHaveLength(1);
    const request = sent[0]!;
    expect([...request.headers.keys()].sort()).toEqual(['accept', 'authorization']);
    expect(request.headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
    expect(new URL(request.url).pathname).toBe('/events/evt-1%0D%0ASet-Cookie%3A%20session%3Dattacker');
  });
});

describe('the TrueFoundry client: an API key that cannot travel in a header is refused when the client is built', () => {
  const KEY = 'tfy-api-key-0123456789';

  it.each([
    ['CR/LF and a header after it', `${KEY}${CRLF_SET_COOKIE}`],
    ['a trailing newline (as a secret store may keep it)', `${KEY}\n`],
    ['a NUL', `${KEY}\u0000`],
    ['a space', `${KEY} x`],
  ])('%s → TypeError naming the rule, not the key; no request made', (_name, apiKey) => {
    let calls = 0;
    const build = () =>
      new TrueFoundryUsersClient({
        baseUrl: 'https://acme.truefoundry.cloud',
        apiKey,
        fetch: (async () => {
          calls++;
          return new Response('{}');
        }) as typeof fetch,
      });

    expect(build).toThrow(/apiKey must be printable ASCII without spaces, line breaks or control characters/);
    expect(() => build()).toThrow(expect.objectContaining({ message: expect.not.stringContaining(KEY) }));
    expect(calls).toBe(0);
  });

  it('from the secret (the worker’s path): the provider refuses it the same way, without the key', async () => {
    const provider = new CredentialedUsersApiProvider(async () => ({
      baseUrl: 'https://acme.truefoundry.cloud',
      apiKey: `${KEY}\r\n`,
    }));

    const failure = await provider.get().then(
      () => 'built',
      (error: Error) => error.message,
    );
    expect(failure).toMatch(/apiKey must be printable ASCII/);
    expect(failure).not.toContain(KEY);
  });

  it('a good key: every request carries the same three constant headers, whatever the ids', async () => {
    const seen: Headers[] = [];
    const client = new TrueFoundryUsersClient({
      baseUrl: 'https://acme.truefoundry.cloud',
      apiKey: KEY,
      fetch: (async (_input: string | URL | Request, init?: RequestInit) => {
        seen.push(new Headers(init?.headers));
        return new Response(JSON.stringify({ data: [], total: 0 }), { status: 200 });
      }) as typeof fetch,
    });
    await client.list({ query: `ada${CRLF_SET_COOKIE}` }).catch(() => undefined);

    expect(seen.length).toBeGreaterThan(0);
    for (const headers of seen) {
      expect([...headers.keys()].sort()).toEqual(['accept', 'authorization']);
      expect(headers.get('authorization')).toBe(`Bearer ${KEY}`);
    }
  });
});
