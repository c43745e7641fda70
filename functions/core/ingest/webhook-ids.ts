import { createHash } from 'node:crypto';
import { type IngestRequest, type IngestResponse, problem } from './http';

/**
 * What a recorded webhook-id says about a new request under it: `first` (not seen within the window),
 * `same` (seen with this very request: the sender's retry), `different` (seen with another request).
 */
export type WebhookIdVerdict = 'first' | 'same' | 'different';

/**
 * The webhook-ids of signed requests, kept for as long as their signature could still be accepted, so a
 * webhook-id names one message: the same id with another body or route is refused. Locally a SQLite table
 * beside the state, on AWS `WEBHOOK#<id>` items of the state table with a TTL.
 */
export interface WebhookIdStore {
  /**
   * Records `fingerprint` under `id` until `expiresAtMs`, unless the id is recorded and unexpired at
   * `nowMs`: then says whether it was recorded with the same fingerprint. Atomic: of two concurrent first
   * requests under one id with different fingerprints, one is `first` and the other `different`.
   */
  remember(id: string, fingerprint: string, expiresAtMs: number, nowMs: number): Promise<WebhookIdVerdict>;
}

/** The `standardwebhooks` package's tolerance: a signature is accepted up to five minutes either side of now. */
export const SIGNATURE_TOLERANCE_MS = 5 * 60_000;
/** Clock differences between the instances that check signatures (Lambda instances, a restart). */
const CLOCK_MARGIN_MS = 60_000;
/** Standard Webhooks ids are short (`msg_2KWPBgLlAfxdpx2AI54pPJ85f4W`); a key must stay small. */
const WEBHOOK_ID = /^[\x21-\x7e]{1,256}$/;

/**
 * Called for a request whose signature was verified: records its webhook-id, and answers the refusal when
 * the id was used within the window for another request (another body, or another route). The same
 * request again is the sender's retry and goes on; its event ids make it a duplicate. Undefined: go on.
 */
export async function checkWebhookId(
  request: IngestRequest,
  store: WebhookIdStore,
  nowMs: number,
): Promise<IngestResponse | undefined> {
  const id = request.headers['webhook-id'] ?? '';
  if (!WEBHOOK_ID.test(id)) {
    return problem(400, {
      error: 'invalid_webhook_id',
      message: 'the webhook-id header must be 1-256 printable ASCII characters without spaces',
    });
  }
  // The signature was accepted, so its timestamp is within the tolerance of now: the record must outlive
  // the last moment the same headers could be accepted again.
  const signedAtMs = Number.parseInt(request.headers['webhook-timestamp'] ?? '', 10) * 1000;
  const expiresAtMs =
    (Number.isFinite(signedAtMs) ? Math.max(signedAtMs, nowMs) : nowMs) +
    SIGNATURE_TOLERANCE_MS +
    CLOCK_MARGIN_MS;
  const verdict = await store.remember(id, fingerprintOf(request), expiresAtMs, nowMs);
  if (verdict !== 'different') return undefined;
  return problem(409, {
    error: 'webhook_id_reused',
    message: `webhook-id ${id} was already used for a different request within the last ${SIGNATURE_TOLERANCE_MS / 60_000} minutes; a webhook-id names one message: sign a new message with a new id`,
  });
}

/** The request a webhook-id was used for: route and exact body bytes. */
export function fingerprintOf(request: IngestRequest): string {
  return createHash('sha256')
    .update(`${request.method} ${request.path}\n`)
    .update(request.body)
    .digest('base64url');
}
