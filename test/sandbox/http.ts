import { REGISTER_PATH } from '../../functions/core/truefoundry/api-contract';
import type { Sandbox } from '../../sandbox';

/** Plain fetch against a started sandbox: the project's own client is deliberately not used here. */

export type Reply<T> = { status: number; headers: Headers; body: T };

type CallOptions = {
  body?: unknown;
  rawBody?: string;
  apiKey?: string | null;
  query?: Record<string, string>;
};

export const call = async <T = Record<string, unknown>>(
  sandbox: Sandbox,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Reply<T>> => {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const apiKey = options.apiKey === undefined ? sandbox.apiKey : options.apiKey;
  if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
  const query = options.query ? `?${new URLSearchParams(options.query)}` : '';
  const target = path.startsWith('/') ? path : `/${path}`;
  const response = await fetch(`${sandbox.url}${target}${query}`, {
    method,
    headers,
    body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : undefined) as T,
  };
};

export const register = (sandbox: Sandbox, email: string, extra: Record<string, unknown> = {}) =>
  call(sandbox, 'POST', REGISTER_PATH, { body: { email, ...extra } });
