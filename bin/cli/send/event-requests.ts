import { MAX_EVENTS_PER_REQUEST } from '../../../functions/core/ingest/events-body';
import { MAX_EVENTS_BODY_BYTES } from '../../../functions/core/ingest/limits';
import { CliError } from '../cli-error';
import type { FileEvent } from './read-events-file';

/** One POST /events body and the file events it carries, in order (the server's `event` index). */
export type EventsRequest = { events: FileEvent[]; body: string };

const ENVELOPE = '{"events":[]}';

/** Packs events into as few requests as the API takes: at most 500 events and 1 MiB each. */
export function eventRequests(events: readonly FileEvent[], name: string): EventsRequest[] {
  const requests: EventsRequest[] = [];
  let current: FileEvent[] = [];
  let bytes = Buffer.byteLength(ENVELOPE);
  const close = () => {
    if (current.length === 0) return;
    requests.push({ events: current, body: `{"events":[${current.map((e) => e.json).join(',')}]}` });
    current = [];
    bytes = Buffer.byteLength(ENVELOPE);
  };
  for (const event of events) {
    const size = Buffer.byteLength(event.json) + 1; // and its comma
    if (size + Buffer.byteLength(ENVELOPE) > MAX_EVENTS_BODY_BYTES) {
      throw new CliError(`${name}: the event on line ${event.line} is larger than a request may be (1 MiB)`);
    }
    if (current.length === MAX_EVENTS_PER_REQUEST || bytes + size > MAX_EVENTS_BODY_BYTES) close();
    current.push(event);
    bytes += size;
  }
  close();
  return requests;
}
