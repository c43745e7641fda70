/** What the API answers, as the CLI reads it; the server's own types where they exist, so drift fails tsc. */
import type { AcceptedEvent } from '../../functions/core/ingest/accept-events';
import type { eventView } from '../../functions/core/ingest/routes/get-event';

export type { AcceptedEvent };
export type EventView = ReturnType<typeof eventView>;
export type EventPageAnswer = { events: EventView[]; cursor?: string };
export type PostEventsAnswer = { events: AcceptedEvent[] };
export type BatchAnswer = {
  batchId: string;
  accepted: number;
  duplicates: number;
  rejected: { line: number; error: string }[];
};
export type LocalDeadLetter = {
  eventId: string;
  employeeKey: string;
  reason: string;
  deadAt: string;
  receiveCount: number;
};
