import type { EventStore, Log } from '../engine/ports';
import type { Policy } from '../policy/policy';
import type { ForgetReport, ForgetTarget } from '../privacy/forget-person';
import type { EventQueue } from '../queue/event-queue';
import type { IngestCredentials } from './authenticate';
import type { BambooHrIngestOptions } from './routes/post-bamboohr';
import type { WebhookIdStore } from './webhook-ids';

/** Everything the ingest app needs; AWS and the local runtime each wire their own adapters in. */
export type IngestDeps = {
  store: EventStore;
  queue: EventQueue;
  /** Read per request; the source caches (Powertools Parameters on AWS, memory locally). */
  credentials: () => Promise<IngestCredentials>;
  /** The webhook-ids of signed requests within the signature window: one id, one message. */
  webhookIds: WebhookIdStore;
  bamboohr?: BambooHrIngestOptions;
  /**
   * The policy ingest refuses events by (explicit roles, sources, domains, protected accounts), before
   * recording them. Absent: no checks (tests of other concerns); both runtimes always set it.
   */
  policy?: Policy;
  /**
   * Erases a person (POST /forget; privacy/forget-person.ts); `by` says who asked. Absent: the route
   * answers 501 (an app wired without the whole state store).
   */
  forget?: (target: ForgetTarget, by: string) => Promise<ForgetReport>;
  now?: () => number;
  log?: Log;
};
