/*
 * Powertools Tracer as the handlers use it, doing nothing: bench/cold-start.bench.ts bundles it in the
 * Tracer's place to measure what the Tracer (and the X-Ray SDK it loads) costs a cold start, against Lambda's
 * active tracing alone. Never shipped.
 */

export class Tracer {
  captureAWSv3Client<T>(client: T): T {
    return client;
  }
}

/** A middy middleware that does nothing (middy refuses one without a hook). */
export const captureLambdaHandler = (): { before: () => void } => ({ before: () => {} });
