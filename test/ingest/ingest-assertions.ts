import { afterEach, expect } from 'vitest';
import type { EventStore } from '../../functions/core/engine/ports';
import type { RecordingQueue } from '../support/ingest-harness';
import { issuedSignatures, responseLog, secretsIn } from '../support/ingest-harness';

/**
 * After every test of the calling file: no response body the harness handed out (errors above all) holds
 * the ingest token, a webhook secret, the BambooHR key or a signature a test sent.
 */
export function expectNoSecretsInResponses(): void {
  afterEach(() => {
    const leaks = responseLog.flatMap((r) =>
      secretsIn(r.body).map((secret) => `${r.request} → ${r.status} echoes ${secret.slice(0, 8)}…`),
    );
    responseLog.length = 0;
    issuedSignatures.clear();
    expect(leaks).toEqual([]);
  });
}

/** Bad input left no trace: no event recorded, no message queued. */
export async function expectNothingRecorded(ingest: {
  store: EventStore;
  queue: RecordingQueue;
}): Promise<void> {
  expect(ingest.queue.sent).toEqual([]);
  expect((await ingest.store.list({ limit: 500 })).records).toEqual([]);
}

/** The ids of the messages the queue received, in order. */
export const sentIds = (queue: RecordingQueue): string[] => queue.sent.map((m) => m.eventId);
