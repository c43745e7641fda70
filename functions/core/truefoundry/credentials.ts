import { isIP } from 'node:net';
import type { UsersApi, UsersApiProvider } from '../engine/ports';
import { TrueFoundryUsersClient, type TrueFoundryUsersClientOptions } from './client';

/** What the TrueFoundry secret holds. */
export type TrueFoundryCredentials = { baseUrl: string; apiKey: string };

/**
 * Why a TrueFoundry base URL is refused, or undefined: it must be https, since the API key travels in
 * every request's Authorization header. Plain http only to this machine (127.0.0.0/8, ::1, localhost):
 * the built-in sandbox and tests.
 */
export function trueFoundryBaseUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be the tenant URL, e.g. https://acme.truefoundry.cloud';
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return undefined;
  return url.protocol === 'http:'
    ? 'must be https (the API key travels with every call); http is allowed only to loopback (127.0.0.1, ::1, localhost)'
    : 'must be an https URL, e.g. https://acme.truefoundry.cloud';
}

export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Reads the credentials; `fresh` bypasses any cache (after a 401 the secret may have been rotated). */
export type CredentialsSource = (options: { fresh: boolean }) => Promise<TrueFoundryCredentials>;

/**
 * Hands out one client per credential value, so the hot path builds nothing, and rebuilds it when
 * the secret changes. The rate limiter in `clientOptions` is shared by every client it builds.
 */
export class CredentialedUsersApiProvider implements UsersApiProvider {
  private current: { key: string; client: TrueFoundryUsersClient } | undefined;

  constructor(
    private readonly source: CredentialsSource,
    private readonly clientOptions: Omit<TrueFoundryUsersClientOptions, 'baseUrl' | 'apiKey'> = {},
  ) {}

  get(): Promise<UsersApi> {
    return this.load(false);
  }

  refresh(): Promise<UsersApi> {
    return this.load(true);
  }

  private async load(fresh: boolean): Promise<UsersApi> {
    const credentials = await this.source({ fresh });
    const key = `${credentials.baseUrl}\u0000${credentials.apiKey}`;
    if (this.current?.key !== key) {
      this.current = { key, client: new TrueFoundryUsersClient({ ...this.clientOptions, ...credentials }) };
    }
    return this.current.client;
  }
}
