import { createHash, createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { createMemoryStateStore, MemoryWebhookIds } from '../../functions/core/adapters/memory';
import type { IngestCredentials } from '../../functions/core/ingest/authenticate';
import type { IngestRequest } from '../../functions/core/ingest/http';
import { createIngestApp } from '../../functions/core/ingest/ingest-app';
import type { IngestDeps } from '../../functions/core/ingest/ingest-deps';
import type { EventQueue, OutgoingMessage } from '../../functions/core/queue/event-queue';
import { EnqueueError } from '../../functions/core/queue/event-queue';

export const WEBHOOK_SECRET = `whsec_${Buffer.from('a test secret of 24 bytes!').toString('base64')}`;
export const INGEST_TOKEN = 'test-ingest-token-0123456789';
export const BAMBOOHR_KEY = 'bamboohr-private-key';

/** An in-memory queue that records what was sent, and can be told to refuse. */
export class RecordingQueue implements EventQueue {
  readonly sent: OutgoingMessage[] = [];
  refuse = false;

  async send(messages: OutgoingMessage[]): Promise<void> {
    if (this.refuse)
      throw new EnqueueError(
        messages.map((m) => m.eventId),
        'queue refused (test)',
      );
    this.sent.push(...messages);
  }
}

export function ingestFor(
  overrides: Partial<IngestDeps> & { credentials?: () => Promise<IngestCredentials> } = {},
) {
  const store = createMemoryStateStore().events;
  const queue = new RecordingQueue();
  const webhookIds = new MemoryWebhookIds();
  const deps: IngestDeps = {
    store,
    queue,
    webhookIds,
    credentials: async () => ({
      webhookSecret: WEBHOOK_SECRET,
      ingestToken: INGEST_TOKEN,
      bamboohrWebhookKey: BAMBOOHR_KEY,
    }),
    ...overrides,
  };
  const app = createIngestApp(deps);
  const call = async (request: Partial<IngestRequest> & { method: string; path: string }) => {
    const response = await app({ query: {}, headers: {}, body: Buffer.alloc(0), ...request });
    responseLog.push({
      request: `${request.method} ${request.path}`,
      status: response.status,
      body: response.body,
    });
    return {
      ...response,
      json: JSON.parse(response.body) as Record<string, unknown> & { [k: string]: unknown },
    };
  };
  return { app, call, store, queue, deps, webhookIds };
}

/** Every response `call` returned in this test file (until cleared), so a test can check none leaks a secret. */
export const responseLog: { request: string; status: number; body: string }[] = [];
/** Every signature the helpers below made, so a test can check no response echoes one. */
export const issuedSignatures = new Set<string>();

/** The secrets (and the forms they travel in) that must never appear in a response. */
export function secretsIn(text: string): string[] {
  const secrets = [
    INGEST_TOKEN,
    WEBHOOK_SECRET,
    WEBHOOK_SECRET.slice('whsec_'.length),
    Buffer.from(WEBHOOK_SECRET.slice('whsec_'.length), 'base64').toString('utf8'),
    BAMBOOHR_KEY,
  ];
  const signatureParts = [...issuedSignatures].flatMap((s) => s.split(/[ ,]/)).filter((p) => p.length >= 16);
  return [...secrets, ...issuedSignatures, ...signatureParts].filter(
    (secret) => text.includes(secret) || text.toLowerCase().includes(secret.toLowerCase()),
  );
}

export const bearer = (token = INGEST_TOKEN) => ({ authorization: `Bearer ${token}` });

/**
 * Standard Webhooks headers for a body, signed now (or at `at`, seconds since the epoch). The id is the
 * body's: one message, one id (a sender's retry of the same body reuses it, as here).
 */
export function signed(
  body: string,
  secret = WEBHOOK_SECRET,
  at = Math.floor(Date.now() / 1000),
  id = `msg_${createHash('sha256').update(body).digest('hex').slice(0, 24)}`,
) {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(at),
    'webhook-signature': track(new Webhook(secret).sign(id, new Date(at * 1000), body)),
  };
}

/** BambooHR's headers for a raw body: hex HMAC-SHA256 over the body followed by the timestamp header. */
export function bamboohrSigned(body: string, key = BAMBOOHR_KEY, at = Math.floor(Date.now() / 1000)) {
  const timestamp = String(at);
  return {
    'x-bamboohr-timestamp': timestamp,
    'x-bamboohr-signature': track(createHmac('sha256', key).update(body).update(timestamp).digest('hex')),
  };
}

function track(signature: string): string {
  issuedSignatures.add(signature);
  return signature;
}

export function jsonRequest(path: string, body: unknown, headers: Record<string, string> = bearer()) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(text),
  };
}

export const hireEvent = (id = 'evt-1', email = 'ada@example.com') => ({
  id,
  type: 'hire',
  occurredAt: '2026-11-29T09:00:00Z',
  employee: { id: `E-${id}`, email },
  roles: ['tenant-member'],
});
