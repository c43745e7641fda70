import type { ErrorBody } from '../../../functions/core/ingest/http';
import type { FileEvent } from './read-events-file';

/**
 * The server's validation issues with each event named by its line in the file and its id, and the path
 * inside the event without the `events[n].` the request added.
 */
export function describeIssues(problem: Partial<ErrorBody>, request: readonly FileEvent[]): string[] {
  const issues = problem.issues ?? [];
  if (issues.length === 0) return [`  ${problem.message ?? problem.error ?? 'refused without a reason'}`];
  return issues.map((issue) => {
    const event = issue.event === undefined ? undefined : request[issue.event];
    const path = issue.path.replace(/^(events)?\[\d+\]\.?/, '');
    const where = event ? `line ${event.line}${idOf(event.value)}` : 'request';
    return `  ${where}: ${path === '' ? '' : `${path}: `}${issue.message}`;
  });
}

function idOf(value: unknown): string {
  const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? ` (${id})` : '';
}
