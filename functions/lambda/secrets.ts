import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { z } from 'zod';
import type { IngestCredentials } from '../core/ingest/authenticate';
import type { TrueFoundryCredentials } from '../core/truefoundry/client-provider';

/** Secrets are cached this long per instance; a 401 from TrueFoundry forces a fresh read. */
const MAX_AGE_SECONDS = 300;

const trueFoundrySecret = z.object({
  baseUrl: z.url({ error: 'baseUrl must be the tenant URL, e.g. https://acme.truefoundry.cloud' }),
  apiKey: z.string().min(1, { error: 'apiKey must be set' }),
});

const ingestSecret = z.object({
  webhookSecret: z.string().startsWith('whsec_').optional(),
  ingestToken: z.string().min(16).optional(),
  bamboohrWebhookKey: z.string().min(1).optional(),
  bamboohrApiKey: z.string().min(1).optional(),
});

async function readJsonSecret<S extends z.ZodType>(
  arn: string,
  schema: S,
  fresh: boolean,
): Promise<z.output<S>> {
  const value = await getSecret(arn, { transform: 'json', maxAge: MAX_AGE_SECONDS, forceFetch: fresh });
  const parsed = schema.safeParse(value);
  // The message names the fields that are wrong, never their values.
  if (!parsed.success) {
    throw new Error(
      `secret ${arn} is not valid: ${parsed.error.issues.map((i) => i.path.join('.') || i.message).join(', ')}`,
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
