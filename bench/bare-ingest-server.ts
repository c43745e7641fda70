/**
 * The ingest bench's reference: a bare node:http server that reads the body, parses the JSON and answers
 * 202 with the same shape POST /events answers, and does nothing else (no auth, no validation, no disk).
 * Run as its own process (`node --import tsx bench/bare-ingest-server.ts`), as the runtime is, so both
 * are measured the same way; it prints `listening <url>` once it is ready.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let answer: { status: number; body: string };
    try {
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown };
      answer = { status: 202, body: JSON.stringify({ events: [{ id: event.id, status: 'queued' }] }) };
    } catch {
      answer = { status: 400, body: '{"error":"malformed_json"}' };
    }
    res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(answer.body);
  });
});
server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`listening http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
