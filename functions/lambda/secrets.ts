import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { z } from 'zod';
import type { IngestCredentials } from '../core/ingest/authenticate';
import {
  bamboohrWebhookKeyProblem,
  checkedWith,
  MIN_INGEST_TOKEN_LENGTH,
  webhookSecretProblem,
} from '../core/ingest/credential-rules';
import { trueFoundryBaseUrlProblem } from '../core/truefoundry/base-url';
import type { TrueFoundryCredentials } from '../core/truefoundry/client-provider';

/** Secrets are cached this long per instance; a 401 from TrueFoundry forces a fresh read. */
const MAX_AGE_SECONDS = 300;

const trueFoundrySecret = z.object({
  // https only (http to loopback, for tests): the API key travels with every call.
  baseUrl: checkedWith(trueFoundryBaseUrlProblem),
  apiKey: z.string().min(1, { error: 'apiKey must be set' }),
});

// The same strength rules as the local runtime's environment (credential-rules.ts).
const ingestSecret = z.object({
  webhookSecret: checkedWith(webhookSecretProblem).optional(),
  ingestToken: z
    .string()
    .min(MIN_INGEST_TOKEN_LENGTH, { error: `must be at least ${MIN_INGEST_TOKEN_LENGTH} characters` })
    .optional(),
  bamboohrWebhookKey: checkedWith(bamboohrWebhookKeyProblem).optional(),
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
