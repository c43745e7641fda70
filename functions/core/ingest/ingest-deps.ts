import type { EventStore, Log } from '../engine/ports';
import type { EventQueue } from '../queue/event-queue';
import type { IngestCredentials } from './authenticate';
import type { BambooHrIngestOptions } from './routes/post-bamboohr';

/** Everything the ingest app needs; AWS and the local runtime each wire their own adapters in. */
export type IngestDeps = {
  store: EventStore;
  queue: EventQueue;
  /** Read per request; the source caches (Powertools Parameters on AWS, memory locally). */
  credentials: () => Promise<IngestCredentials>;
  bamboohr?: BambooHrIngestOptions;
  now?: () => number;
  log?: Log;
};
