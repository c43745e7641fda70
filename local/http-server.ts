import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IngestRequest, IngestResponse } from '../functions/core/ingest/http';
import { problem } from '../functions/core/ingest/http';
import { MAX_BATCH_BODY_BYTES } from '../functions/core/ingest/limits';

export type RequestHandler = (request: IngestRequest) => Promise<IngestResponse>;

/** Above the largest route limit, so the route itself answers 413 with its own rule; beyond this the socket is cut. */
const MAX_READ_BYTES = MAX_BATCH_BODY_BYTES + 1024;

/** The local front door: node:http turned into the same request shape API Gateway hands the ingest λ. */
export async function listen(
  handler: RequestHandler,
  port: number,
  host: string,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    void serve(req, res, handler);
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

async function serve(req: IncomingMessage, res: ServerResponse, handler: RequestHandler): Promise<void> {
  let response: IngestResponse;
  try {
    const body = await readBody(req);
    response =
      body === 'too-large'
        ? problem(413, {
            error: 'body_too_large',
            message: `the body is larger than ${MAX_READ_BYTES} bytes`,
          })
        : await handler(toRequest(req, body));
  } catch {
    response = problem(500, {
      error: 'internal_error',
      message: 'the request could not be handled; retry it later',
    });
  }
  res.writeHead(response.status, response.headers);
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

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_READ_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
