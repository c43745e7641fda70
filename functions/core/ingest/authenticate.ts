import { hash, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import * as z from 'zod';
import type { IngestRequest } from './http';

/*
 * Callers and their credentials: the secrets ingest holds, how strong each must be, and the one rule that
 * says which credential opens which route.
 */

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

/** The Standard Webhooks key as bytes: at least 192 bits, as the key Svix and others generate (24–32 bytes). */
export const MIN_WEBHOOK_SECRET_BYTES = 24;
/** BambooHR's private keys are long random strings; a short one can be guessed from one signed request. */
export const MIN_BAMBOOHR_WEBHOOK_KEY_LENGTH = 16;
/** The bearer token: long enough that guessing it online is hopeless. */
export const MIN_INGEST_TOKEN_LENGTH = 16;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Why a Standard Webhooks secret is refused, or undefined. Never says anything of the value but its
 * decoded length: the messages end up in start-up errors and logs.
 */
export function webhookSecretProblem(secret: string): string | undefined {
  if (!secret.startsWith('whsec_')) return 'must be a Standard Webhooks secret (whsec_…)';
  const key = secret.slice('whsec_'.length);
  if (!BASE64.test(key)) return 'must be whsec_ followed by base64 (the key as the sender shows it)';
  const bytes = Buffer.from(key, 'base64').length;
  return bytes < MIN_WEBHOOK_SECRET_BYTES
    ? `must be whsec_ followed by at least ${MIN_WEBHOOK_SECRET_BYTES} random bytes in base64 (this one holds ${bytes})`
    : undefined;
}

export function bamboohrWebhookKeyProblem(key: string): string | undefined {
  return key.length < MIN_BAMBOOHR_WEBHOOK_KEY_LENGTH
    ? `must be at least ${MIN_BAMBOOHR_WEBHOOK_KEY_LENGTH} characters (BambooHR's webhook private key, as shown when the webhook was made)`
    : undefined;
}

/** A string schema that refuses what `problem` finds, with its message and without the value. */
export const checkedWith = (problem: (value: string) => string | undefined) =>
  z.string().check((ctx) => {
    const found = problem(ctx.value);
    if (found !== undefined) ctx.issues.push({ code: 'custom', message: found, input: '(not shown)' });
  });

export type AuthResult = { ok: true; via: 'signature' | 'token' | 'gateway' } | { ok: false; reason: string };

/**
 * How a route lets callers in; every route names one, and a credential opens only the routes whose kind
 * lists it:
 *
 *   none      anyone (GET /healthz)
 *   ingest    a Standard Webhooks signature over the body, or the bearer token: the routes HR systems post
 *             events to (POST /events, POST /batch). API Gateway IAM identity is ignored: these routes are
 *             not IAM routes, so an identity on the request proves nothing here.
 *   operator  the bearer token, or IAM identity that API Gateway checked (the IAM routes on AWS): reads
 *             and operator actions (GET /events, GET /events/{id}, /dlq, /forget, /holds, /reconcile, …).
 *             A signature never opens them: signed headers captured from a POST must not read or redrive.
 *   own       the route checks its own scheme (POST /webhooks/bamboohr: BambooHR's HMAC).
 */
export type RouteAuth = 'none' | 'ingest' | 'operator' | 'own';

/** The kinds `authenticate` decides; `none` and `own` routes do not call it. */
export type CallerAuth = Extract<RouteAuth, 'ingest' | 'operator'>;

/** The Standard Webhooks signature header: its presence says the caller means to authenticate by signature. */
export const SIGNATURE_HEADER = 'webhook-signature';

/**
 * The one rule for `ingest` and `operator` routes (see RouteAuth). Ingest routes take a Standard Webhooks
 * signature (verified by the `standardwebhooks` package, which also refuses timestamps outside five
 * minutes) or `Authorization: Bearer <ingest token>`; operator routes take the token or gateway-checked
 * IAM identity. Reasons never echo what the caller sent. Headers only, except a signature's check (it
 * covers the body).
 */
export function authenticate(
  request: IngestRequest,
  credentials: IngestCredentials,
  auth: CallerAuth,
): AuthResult {
  if (auth === 'operator' && request.gatewayAuthorized) return { ok: true, via: 'gateway' };
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const token = /^Bearer\s+(.+)$/i.exec(authorization.trim())?.[1];
    if (!token || !credentials.ingestToken) return { ok: false, reason: 'the bearer token is not valid' };
    return sameSecret(token, credentials.ingestToken)
      ? { ok: true, via: 'token' }
      : { ok: false, reason: 'the bearer token is not valid' };
  }
  if (auth === 'operator') {
    return {
      ok: false,
      reason:
        request.headers[SIGNATURE_HEADER] !== undefined
          ? `a webhook signature authorises only the signed ingest routes (POST /events, POST /batch), not ${request.method} ${request.path}: send Authorization: Bearer <token> (on AWS: sign the request with IAM, SigV4)`
          : 'missing credentials: send Authorization: Bearer <token> (on AWS: sign the request with IAM, SigV4)',
    };
  }
  if (request.headers[SIGNATURE_HEADER] !== undefined) {
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
      return { ok: false, reason: signatureRejected(error) };
    }
  }
  return {
    ok: false,
    reason:
      'missing credentials: sign the request (webhook-id, webhook-timestamp, webhook-signature) or send Authorization: Bearer <token>',
  };
}

/**
 * What can be decided about a signature before its body arrives: the headers are all there, the
 * timestamp is within the package's tolerance, a secret is configured. `undefined`: read the body and
 * verify. The same package call as `authenticate`, over an empty body: it checks the headers and the
 * timestamp before the signature, so any other error than a mismatch is final whatever the body holds.
 */
export function signatureRefusedBeforeBody(
  request: IngestRequest,
  credentials: IngestCredentials,
): string | undefined {
  if (!credentials.webhookSecret) return 'webhook signatures are not configured';
  try {
    new Webhook(credentials.webhookSecret).verify('', signatureHeaders(request), { jsonParse: false });
    return undefined;
  } catch (error) {
    return error instanceof Error && /no matching signature/i.test(error.message)
      ? undefined
      : signatureRejected(error);
  }
}

function signatureRejected(error: unknown): string {
  const message = error instanceof Error ? error.message : 'invalid signature';
  return `webhook signature rejected: ${message.toLowerCase()}`;
}

function signatureHeaders(request: IngestRequest): Record<string, string> {
  return {
    'webhook-id': request.headers['webhook-id'] ?? '',
    'webhook-timestamp': request.headers['webhook-timestamp'] ?? '',
    'webhook-signature': request.headers['webhook-signature'] ?? '',
  };
}

/**
 * Constant-time, so the token cannot be guessed byte by byte from response times. Both sides are hashed
 * first (SHA-256): timingSafeEqual needs equal lengths, and returning early on a length mismatch would tell
 * a caller the token's length. The digests are always 32 bytes, so every token, of any length, costs one
 * hash and one full comparison. test/security/token-comparison.test.ts holds this in place.
 */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), expectedDigest(expected));
}

// crypto.hash: the one-shot form, about twice as fast as createHash for a short text (every request pays it).
const sha256 = (text: string): Buffer => hash('sha256', text, 'buffer');

/** The configured secret's digest, kept while the secret stays the same: every request compares against it. */
let expectedCache: { secret: string; digest: Buffer } | undefined;
function expectedDigest(secret: string): Buffer {
  if (expectedCache?.secret !== secret) expectedCache = { secret, digest: sha256(secret) };
  return expectedCache.digest;
}
