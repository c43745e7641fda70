import { z } from 'zod';

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
