import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Admission, bodyTooLarge } from '../functions/core/ingest/admission';
import type { IngestRequest, IngestResponse } from '../functions/core/ingest/http';
import { problem } from '../functions/core/ingest/http';

export type RequestHandler = {
  /** On the headers alone (the body empty): refuse at once, or how much body to read (admission.ts). */
  admit: (head: IngestRequest) => Promise<Admission>;
  /** The whole request, body read. */
  handle: (request: IngestRequest) => Promise<IngestResponse>;
};

/**
 * The local front door: node:http turned into the same request shape API Gateway hands the ingest λ. A
 * request is admitted on its headers before its body is read: a missing or wrong bearer token, or a body
 * declared larger than the caller may send, is answered at once and the connection closed, so an
 * unauthenticated caller never makes the process buffer more than 64 KiB (a signed one, its route's limit).
 */
export async function listen(
  handler: RequestHandler,
  port: number,
  host: string,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    void serve(req, res, handler);
  });
  // `Expect: 100-continue` (curl's large uploads): the client waits for our word before sending the body,
  // so a refused request sends none of it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    void serve(req, res, handler, () => res.writeContinue());
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { server, url: `http://${shownHost}:${address.port}` };
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  handler: RequestHandler,
  continueBody: () => void = () => {},
): Promise<void> {
  let response: IngestResponse;
  // Answered without reading the whole body: the connection cannot carry another request after it.
  let bodyLeftUnread = false;
  try {
    const head = toRequest(req, Buffer.alloc(0));
    const admission = await handler.admit(head);
    if ('refuse' in admission) {
      bodyLeftUnread = true;
      response = admission.refuse;
    } else {
      continueBody();
      const body = await readBody(req, admission.maxBytes);
      if (body === 'too-large') {
        bodyLeftUnread = true;
        response = bodyTooLarge(`is larger than ${admission.maxBytes} bytes`, admission.rule);
      } else response = await handler.handle({ ...head, body });
    }
  } catch {
    response = problem(500, {
      error: 'internal_error',
      message: 'the request could not be handled; retry it later',
    });
  }
  res.writeHead(response.status, {
    ...response.headers,
    ...(bodyLeftUnread && !req.complete ? { connection: 'close' } : {}),
  });
  res.end(response.body);
}

function toRequest(req: IncomingMessage, body: Buffer): IngestRequest {
  const url = new URL(req.url ?? '/', 'http://local');
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    body,
  };
}

/** At most `maxBytes`: the moment a body goes past them it is answered, not read to its end. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      chunks.length = 0;
      resolve('too-large');
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
