import { parseCanonicalEvent } from '../../events/canonical-event';
import { describeIssue } from '../../events/validation-issues';
import { BatchCollector, type ParsedBatch } from './batch-result';

/**
 * Reads a batch of newline-delimited canonical events (JSON Lines), one event per non-blank line. A line
 * that is not JSON, or not a valid event, is rejected with its line number; the others still count.
 */
export function parseNdjsonBatch(text: string, options: { receivedAt: string }): ParsedBatch {
  const batch = new BatchCollector();
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = index + 1;
    // trim() also drops a CR (CRLF files) and a leading byte-order mark.
    const json = lines[index]!.trim();
    if (json === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (error) {
      batch.reject(line, `invalid JSON: ${(error as Error).message}`);
      continue;
    }
    const result = parseCanonicalEvent(withDefaultOccurredAt(value, options.receivedAt));
    if (result.ok) batch.accept(line, result.event);
    else batch.reject(line, result.issues.map(describeIssue).join('; '));
  }
  return batch.result();
}

/** As in CSV batches, an event that does not say when it happened happened when the file arrived. */
function withDefaultOccurredAt(value: unknown, receivedAt: string): unknown {
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  return isObject && !('occurredAt' in value) ? { ...value, occurredAt: receivedAt } : value;
}
