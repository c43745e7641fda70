import { timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { IngestRequest } from './http';

/** The secrets ingest checks callers against; any may be absent (that way in is then closed). */
export type IngestCredentials = {
  /** Standard Webhooks secret, `whsec_…`. */
  webhookSecret?: string;
  /** Static bearer token for scripts and the CLI. */
  ingestToken?: string;
  /** BambooHR webhook private key (HMAC-SHA256). */
  bamboohrWebhookKey?: string;
  /** BambooHR API key, for looking up employees that webhooks name without fields. */
  bamboohrApiKey?: string;
};

export type AuthResult = { ok: true; via: 'signature' | 'token' | 'gateway' } | { ok: false; reason: string };

/**
 * A Standard Webhooks signature (verified by the `standardwebhooks` package, which also refuses
 * timestamps outside five minutes) or `Authorization: Bearer <ingest token>`. Reasons never echo what
 * the caller sent.
 */
export function authenticate(request: IngestRequest, credentials: IngestCredentials): AuthResult {
  if (request.gatewayAuthorized) return { ok: true, via: 'gateway' };
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const token = /^Bearer\s+(.+)$/i.exec(authorization.trim())?.[1];
    if (!token || !credentials.ingestToken) return { ok: false, reason: 'the bearer token is not valid' };
    return sameSecret(token, credentials.ingestToken)
      ? { ok: true, via: 'token' }
      : { ok: false, reason: 'the bearer token is not valid' };
  }
  if (request.headers['webhook-signature'] !== undefined) {
    if (!credentials.webhookSecret) return { ok: false, reason: 'webhook signatures are not configured' };
    try {
      new Webhook(credentials.webhookSecret).verify(
        request.body.toString('utf8'),
        signatureHeaders(request),
        {
          jsonParse: false,
        },
      );
      return { ok: true, via: 'signature' };
    } catch (error) {
      const message = error instanceof Error ? error.message : 'invalid signature';
      return { ok: false, reason: `webhook signature rejected: ${message.toLowerCase()}` };
    }
  }
  return {
    ok: false,
    reason:
      'missing credentials: sign the request (webhook-id, webhook-timestamp, webhook-signature) or send Authorization: Bearer <token>',
  };
}

function signatureHeaders(request: IngestRequest): Record<string, string> {
  return {
    'webhook-id': request.headers['webhook-id'] ?? '',
    'webhook-timestamp': request.headers['webhook-timestamp'] ?? '',
    'webhook-signature': request.headers['webhook-signature'] ?? '',
  };
}

// Constant-time so the token cannot be guessed byte by byte from response times.
function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
