/** Why a BambooHR API call failed; `http` carries a status, the others never got a usable answer. */
export type BambooHrFailure = 'invalid_request' | 'http' | 'network' | 'timeout' | 'invalid_response';

/**
 * A failed call to BambooHR's REST API. The message names the call and the status, never the API key:
 * it ends up in logs, in skip reasons and in the dead-letter queue.
 */
export class BambooHrApiError extends Error {
  constructor(
    message: string,
    readonly failure: BambooHrFailure,
    /** HTTP status; undefined when no answer came. */
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BambooHrApiError';
  }

  /** True when the same call may succeed later: rate limits, server errors, network failures, timeouts. */
  isTransient(): boolean {
    if (this.failure === 'network' || this.failure === 'timeout') return true;
    return this.status !== undefined && (this.status === 429 || this.status >= 500);
  }
}
