import { createHmac, timingSafeEqual } from 'node:crypto';

export type BambooHrSignatureInput = {
  /** The request body exactly as received: re-serialised JSON would not match the signature. */
  rawBody: string | Buffer;
  /** The `X-BambooHR-Signature` header: hex HMAC-SHA256. */
  signature: string | undefined;
  /** The `X-BambooHR-Timestamp` header: Unix seconds (an ISO-8601 date-time is accepted too). */
  timestamp: string | undefined;
  /** The private key BambooHR shows once when the webhook is created. */
  privateKey: string;
  nowMs: number;
  /** How far the timestamp may be from now, either way. Default 300 s. */
  toleranceSeconds?: number;
};

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

const DEFAULT_TOLERANCE_SECONDS = 300;
const SHA256_HEX = /^[0-9a-f]{64}$/i;
const UNIX_SECONDS = /^\d{1,12}$/;
// A date and a time with a zone; a zone-less time would depend on the server's time zone.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Checks that a global webhook request comes from BambooHR and is fresh: HMAC-SHA256 over the raw body
 * followed by the timestamp header, keyed with the webhook's private key. The signed timestamp bounds
 * replays of a captured request to the tolerance window. Reasons never include the key or the expected
 * signature, so they are safe to log and to return.
 */
export function verifyBambooHrSignature(input: BambooHrSignatureInput): SignatureCheck {
  const { signature, timestamp, privateKey } = input;
  if (privateKey === '') return fail('no webhook private key is configured');
  if (signature === undefined || signature.trim() === '') return fail('missing X-BambooHR-Signature header');
  if (timestamp === undefined || timestamp.trim() === '') return fail('missing X-BambooHR-Timestamp header');

  const signedAtMs = parseTimestampMs(timestamp.trim());
  if (signedAtMs === undefined) {
    return fail('X-BambooHR-Timestamp is neither Unix seconds nor an ISO-8601 date-time');
  }
  const toleranceMs = (input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS) * 1000;
  const skewMs = input.nowMs - signedAtMs;
  if (skewMs > toleranceMs) return fail('X-BambooHR-Timestamp is too old (possible replay)');
  if (skewMs < -toleranceMs) return fail('X-BambooHR-Timestamp is in the future');

  const given = signature.trim();
  if (!SHA256_HEX.test(given)) return fail('X-BambooHR-Signature is not a 64-character hex HMAC-SHA256');

  const body = typeof input.rawBody === 'string' ? Buffer.from(input.rawBody, 'utf8') : input.rawBody;
  // The header value as sent is what BambooHR signed, so it is not trimmed or reformatted here.
  const expected = createHmac('sha256', privateKey).update(body).update(timestamp, 'utf8').digest();
  return timingSafeEqual(expected, Buffer.from(given, 'hex'))
    ? { ok: true }
    : fail('X-BambooHR-Signature does not match the body and timestamp');
}

function parseTimestampMs(value: string): number | undefined {
  if (UNIX_SECONDS.test(value)) return Number(value) * 1000;
  if (!ISO_DATE_TIME.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function fail(reason: string): SignatureCheck {
  return { ok: false, reason };
}
