import { join, relative, resolve } from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { readLocalIngestToken, SECRETS_FILE } from '../../../local/local-secrets';
import type { GlobalValues } from '../arguments';
import { type AwsCredentials, type CliContext, CliError } from '../cli-io';

/** Where the API is, and how the CLI proves who it is there. */
export type Target = {
  /** The API base URL as given, without a trailing slash (keeps an API Gateway stage such as `/prod`). */
  baseUrl: string;
  /** The runtime on this machine: its token can be read from the data dir, and `npm start` starts it. */
  local: boolean;
  /** Set when reads go through API Gateway IAM auth: they are SigV4-signed for this region. */
  iamRegion: string | undefined;
  dataDir: string;
  /** The bearer token for the POST routes; throws a CliError saying where to find one. */
  token(): string;
  /** Where the operator finds the right token, for a refused one. */
  tokenHint: string;
};

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const EXECUTE_API_HOST = /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

export function resolveTarget(values: GlobalValues, ctx: CliContext): Target {
  const given = values.url ?? ctx.env.HRP_URL ?? `http://127.0.0.1:${ctx.env.PORT || 8787}`;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new CliError(`"${given}" is not a URL: pass --url http(s)://host[:port][/stage] or set HRP_URL`);
  }
  const local = LOOPBACK_HOSTS.has(url.hostname);
  const dataDir = resolve(ctx.cwd, values['data-dir'] ?? ctx.env.DATA_DIR ?? '.data');
  const secretsFile = relative(ctx.cwd, join(dataDir, SECRETS_FILE)) || SECRETS_FILE;
  const hostRegion = EXECUTE_API_HOST.exec(url.hostname)?.[1];
  // A custom domain in front of API Gateway does not name its region: --region marks it as AWS.
  const iamRegion = local ? undefined : (values.region ?? hostRegion);
  return {
    baseUrl: url.href.replace(/\/+$/, ''),
    local,
    iamRegion,
    dataDir,
    tokenHint: tokenHintOf(local, secretsFile),
    token: () => {
      const token =
        values.token ?? ctx.env.INGEST_TOKEN ?? (local ? localToken(dataDir, secretsFile) : undefined);
      // It travels in the Authorization header: a line break there could add a header of its own, and
      // fetch's refusal of one quotes the whole header, token included. Refused by rule, never shown.
      if (token && !/^[\x20-\x7e]+$/.test(token)) {
        throw new CliError(
          `the token holds a line break, control or non-ASCII character, which an HTTP header cannot carry: ${tokenHintOf(local, secretsFile)}`,
        );
      }
      if (token) return token;
      throw new CliError(
        local
          ? `no token: pass --token or set INGEST_TOKEN; the local runtime writes one to ${secretsFile} when it first starts (\`npm start\`)`
          : 'no token: pass --token or set INGEST_TOKEN to the ingest token of the deployment',
      );
    },
  };
}

const tokenHintOf = (local: boolean, secretsFile: string): string =>
  local
    ? `pass --token or set INGEST_TOKEN (local: it is in ${secretsFile})`
    : 'pass --token or set INGEST_TOKEN (the ingest token of the deployment)';

function localToken(dataDir: string, shownPath: string): string | undefined {
  try {
    return readLocalIngestToken(dataDir);
  } catch (error) {
    throw new CliError(
      `cannot read ${shownPath}: ${(error as Error).message}; pass --token or set INGEST_TOKEN`,
    );
  }
}

/**
 * Signs requests for API Gateway routes behind IAM auth (`GET /events*` on AWS) with SigV4, using the
 * default AWS credential chain (environment, profile, SSO, instance role) unless credentials are given.
 */
export class ExecuteApiSigner {
  readonly #signer: SignatureV4;

  constructor(region: string, credentials: AwsCredentials = defaultProvider()) {
    this.#signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: Sha256 });
  }

  /** The headers to send: the given ones plus host, x-amz-date, authorization (and a session token). */
  async headersFor(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body?: string,
  ): Promise<Record<string, string>> {
    const signed = await this.#signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      // As sent on the wire (percent-encoded once); the signer encodes it again as SigV4 wants for API Gateway.
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...headers, host: url.host },
      ...(body === undefined ? {} : { body }),
    });
    return signed.headers;
  }
}
