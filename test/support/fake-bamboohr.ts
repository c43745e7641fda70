import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeBambooHrOptions = {
  apiKey: string;
  companyDomain: string;
  /** Employees by BambooHR id, with fields keyed by API field name (`workEmail`, `jobTitle`, ...). */
  employees: Record<string, Record<string, string>>;
  /** Per employee id: answer with this status instead, or never answer ('hang'). */
  faults?: Record<string, number | 'hang'>;
};

export type FakeBambooHrRequest = {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
};

export type FakeBambooHr = {
  url: string;
  requests(): FakeBambooHrRequest[];
  close(): Promise<void>;
};

/**
 * A loopback stand-in for BambooHR's `GET /api/gateway.php/{domain}/v1/employees/{id}`: basic auth with the
 * API key as user name, only the requested `fields` in the answer (null when the employee has no value), 404
 * for unknown employees, and BambooHR's `X-BambooHR-Error-Message` header on errors.
 */
export async function startFakeBambooHr(options: FakeBambooHrOptions): Promise<FakeBambooHr> {
  const seen: FakeBambooHrRequest[] = [];
  const expectedAuth = `Basic ${Buffer.from(`${options.apiKey}:x`).toString('base64')}`;
  const employeePath = new RegExp(
    `^/api/gateway\\.php/${escapeRegExp(options.companyDomain)}/v1/employees/([^/]+)$`,
  );

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    seen.push({
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: req.headers.authorization,
    });
    const match = employeePath.exec(url.pathname);
    if (req.method !== 'GET' || !match) return fail(res, 404, 'No such route');
    if (req.headers.authorization !== expectedAuth) return fail(res, 401, 'Invalid API key');

    const id = decodeURIComponent(match[1] ?? '');
    const fault = options.faults?.[id];
    if (fault === 'hang') return;
    if (fault !== undefined) return fail(res, fault, 'Injected fault');
    const employee = options.employees[id];
    if (!employee) return fail(res, 404, 'Employee not found');

    const requested = (url.searchParams.get('fields') ?? '').split(',').filter((f) => f !== '');
    const body: Record<string, string | null> = { id };
    for (const field of requested) body[field] = employee[field] ?? null;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => [...seen],
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Hanging requests keep their sockets open; close them so close() returns.
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function fail(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'x-bamboohr-error-message': message }).end();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
