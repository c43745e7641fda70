import type { UsersApi, UsersApiProvider } from '../engine/ports';
import { TrueFoundryUsersClient, type TrueFoundryUsersClientOptions } from './client';

/** What the TrueFoundry secret holds. */
export type TrueFoundryCredentials = { baseUrl: string; apiKey: string };

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
