import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod';
import { credentialRules } from '../commons/settings';
import type { IngestCredentials } from '../core/ingest/authenticate';
import type { TrueFoundryCredentials } from '../core/truefoundry/credentials';

/** Secrets are cached this long per instance; a 401 from TrueFoundry forces a fresh read. */
const MAX_AGE_SECONDS = 300;

const trueFoundrySecret = z.object({
  // https only (http to loopback, for tests): the API key travels with every call.
  baseUrl: credentialRules.trueFoundryBaseUrl,
  apiKey: z.string().min(1, { error: 'apiKey must be set' }),
});

// The same strength rules as the local runtime's environment (settings.ts).
const ingestSecret = z.object({
  webhookSecret: credentialRules.webhookSecret.optional(),
  ingestToken: credentialRules.ingestToken.optional(),
  bamboohrWebhookKey: credentialRules.bamboohrWebhookKey.optional(),
  bamboohrApiKey: z.string().min(1).optional(),
});

async function readJsonSecret<S extends z.ZodType>(
  arn: string,
  schema: S,
  fresh: boolean,
): Promise<z.output<S>> {
  const value = await getSecret(arn, { transform: 'json', maxAge: MAX_AGE_SECONDS, forceFetch: fresh });
  const parsed = schema.safeParse(value);
  // The message names the fields that are wrong and why, never their values.
  if (!parsed.success) {
    throw new Error(
      `secret ${arn} is not valid: ${parsed.error.issues.map((i) => [i.path.join('.'), i.message].filter(Boolean).join(': ')).join('; ')}`,
    );
  }
  return parsed.data;
}

export const trueFoundryCredentialsFrom =
  (arn: string) =>
  ({ fresh }: { fresh: boolean }): Promise<TrueFoundryCredentials> =>
    readJsonSecret(arn, trueFoundrySecret, fresh);

export const ingestCredentialsFrom = (arn: string) => (): Promise<IngestCredentials> =>
  readJsonSecret(arn, ingestSecret, false);
