import { isIP } from 'node:net';

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
