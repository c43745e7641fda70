import { parseCanonicalEvent } from '../events/canonical-event';
import { describeIssue } from '../events/validation-issues';
import { BatchCollector, type BatchParseOptions, type ParsedBatch } from './batch';
import { MAX_JSON_DEPTH, offsetTooDeep } from './read-json';
import { senderFieldsOf, senderRuleIssues } from './sender-rules';

/**
 * Reads a batch of newline-delimited canonical events (JSON Lines), one event per non-blank line. A line
 * that is not JSON, or not a valid event, is rejected with its line number; the others still count.
 * Each line carries its own id: JSON lines are canonical events, whose id is required.
 */
export function parseNdjsonBatch(text: string, options: BatchParseOptions): ParsedBatch {
  const batch = new BatchCollector();
  const nowMs = Date.parse(options.receivedAt);
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = index + 1;
    // trim() also drops a CR (CRLF files) and a leading byte-order mark.
    const json = lines[index]!.trim();
    if (json === '') continue;
    if (offsetTooDeep(json) !== undefined) {
      batch.reject(line, `invalid JSON: nested deeper than ${MAX_JSON_DEPTH} levels`);
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (error) {
      batch.reject(line, `invalid JSON: ${(error as Error).message}`);
      continue;
    }
    const defaulted = lacksOccurredAt(value);
    const result = parseCanonicalEvent(
      defaulted ? { ...(value as object), occurredAt: options.receivedAt } : value,
    );
    const schemaIssues = result.ok ? [] : result.issues;
    const issues = [...schemaIssues, ...senderRuleIssues(senderFieldsOf(value), nowMs, schemaIssues)];
    if (result.ok && issues.length === 0) {
      batch.accept(line, { event: result.event, ...(defaulted ? { occurredAtDefaulted: true } : {}) });
    } else batch.reject(line, issues.map(describeIssue).join('; '));
  }
  return batch.result();
}

/** As in CSV batches, an event that does not say when it happened happened when the file arrived. */
function lacksOccurredAt(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !('occurredAt' in value);
}
