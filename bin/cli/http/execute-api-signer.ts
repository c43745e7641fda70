import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentials } from '../cli-io';

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
