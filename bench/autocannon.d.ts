/**
 * The part of autocannon 8's programmatic API the ingest bench uses. autocannon ships no types and
 * @types/autocannon is not a dependency of this project: these few declarations stand in for it.
 */
declare module 'autocannon' {
  /** What one request of the sequence sends; `setupRequest` may return a changed copy per request. */
  export type AutocannonRequest = {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
  };

  export type AutocannonOptions = {
    url: string;
    connections?: number;
    /** Seconds. */
    duration?: number;
    /** Requests in all; overrides `duration`. */
    amount?: number;
    pipelining?: number;
    /** Seconds before a request counts as timed out. */
    timeout?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    requests?: AutocannonRequest[];
  };

  /** hdr-histogram-percentiles-obj: latencies in milliseconds, request counts per second. */
  export type Histogram = {
    min: number;
    max: number;
    average: number;
    stddev: number;
    p2_5: number;
    p50: number;
    p75: number;
    p90: number;
    p97_5: number;
    p99: number;
    p99_9: number;
    p99_99: number;
    p99_999: number;
  };

  export type AutocannonResult = {
    latency: Histogram;
    requests: Histogram;
    /** Seconds. */
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    statusCodeStats: Record<string, { count: number }>;
  };

  export type AutocannonInstance = PromiseLike<AutocannonResult> & { stop(): void };

  function autocannon(options: AutocannonOptions): AutocannonInstance;
  export default autocannon;
}
