import { randomBytes } from 'node:crypto';

/** Every credential the soak configures; none may ever show in what the runtime or the sandbox writes. */
export type SoakSecrets = {
  ingestToken: string;
  tfyApiKey: string;
  webhookSecret: string;
  bamboohrWebhookKey: string;
};

/** Fresh for each run and not drawn from the seed: a replay must not need, or print, the old ones. */
export function newSoakSecrets(): SoakSecrets {
  const token = (bytes: number) => randomBytes(bytes).toString('hex');
  return {
    ingestToken: `soak-ingest-${token(16)}`,
    tfyApiKey: `soak-tfy-${token(16)}`,
    webhookSecret: `whsec_${randomBytes(32).toString('base64')}`,
    bamboohrWebhookKey: `soak-bamboohr-${token(16)}`,
  };
}

/** The environment variables that hand the secrets to `npm start` and `npm run emulate`. */
export function secretEnvironment(secrets: SoakSecrets): Record<string, string> {
  return {
    INGEST_TOKEN: secrets.ingestToken,
    TFY_API_KEY: secrets.tfyApiKey,
    WEBHOOK_SECRET: secrets.webhookSecret,
    BAMBOOHR_WEBHOOK_KEY: secrets.bamboohrWebhookKey,
  };
}

/**
 * The strings to look for: each secret, and for the webhook secret also its key without the `whsec_`
 * prefix (a leak of the key bytes need not carry the prefix).
 */
export function secretNeedles(secrets: SoakSecrets): { name: string; value: string }[] {
  return [
    { name: 'INGEST_TOKEN', value: secrets.ingestToken },
    { name: 'TFY_API_KEY', value: secrets.tfyApiKey },
    { name: 'WEBHOOK_SECRET', value: secrets.webhookSecret },
    { name: 'WEBHOOK_SECRET key', value: secrets.webhookSecret.slice('whsec_'.length) },
    { name: 'BAMBOOHR_WEBHOOK_KEY', value: secrets.bamboohrWebhookKey },
  ];
}
