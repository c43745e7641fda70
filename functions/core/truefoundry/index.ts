export * from './client';
export * from './errors';
export * from './paths';
export { RateLimiter, type RateLimiterOptions } from './rate-limiter';
export type { RetryOptions } from './retry-policy';
export type * from './types';
