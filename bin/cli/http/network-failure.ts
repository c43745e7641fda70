import type { Target } from '../target';

export type NetworkFailure = { message: string; transient: boolean };

/**
 * What a failed fetch means for the operator. Connection refused and unknown hosts are not retried:
 * nothing is listening, and waiting will not change that; a reset or a timeout may pass.
 */
export function describeNetworkFailure(error: unknown, target: Target): NetworkFailure {
  const code = errorCodeOf(error);
  if (code === 'ECONNREFUSED') {
    return {
      message: target.local
        ? `no runtime at ${target.baseUrl} — start it with \`npm start\``
        : `nothing answers at ${target.baseUrl} (connection refused) — check --url or HRP_URL`,
      transient: false,
    };
  }
  if (code === 'ENOTFOUND') {
    return {
      message: `cannot resolve the host of ${target.baseUrl} — check --url or HRP_URL`,
      transient: false,
    };
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { message: `${target.baseUrl} did not answer in time`, transient: true };
  }
  const detail = code ?? (error instanceof Error ? error.message : String(error));
  return { message: `the connection to ${target.baseUrl} failed (${detail})`, transient: true };
}

/** fetch wraps the socket error as `cause`; with several addresses (localhost) it is an AggregateError. */
function errorCodeOf(error: unknown): string | undefined {
  const cause = error instanceof Error ? error.cause : undefined;
  for (const candidate of [cause, ...(cause instanceof AggregateError ? cause.errors : []), error]) {
    const code = (candidate as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
