/** Body limits: what API Gateway and one Lambda invocation handle comfortably; larger files go through the CLI in chunks. */
export const MAX_EVENTS_BODY_BYTES = 1024 * 1024;
export const MAX_BATCH_BODY_BYTES = 5 * 1024 * 1024;
export const MAX_BATCH_ROWS = 5_000;
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;
/**
 * What a request may send before it has shown a credential that can be checked without the body: a
 * server that buffers more for anyone who asks can be made to hold megabytes per open connection.
 */
export const MAX_UNAUTHENTICATED_BODY_BYTES = 64 * 1024;

export const mib = (bytes: number): string => `${bytes / (1024 * 1024)} MiB`;
