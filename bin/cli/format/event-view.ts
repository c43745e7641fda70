import type { EventView } from '../api-types';
import { printable } from './printable';
import { formatTable } from './table';

/** `status <id>`: status first, then who and what, then each TrueFoundry call, then the error or note. */
export function describeEvent(event: EventView): string[] {
  const lines = [
    `${event.id}: ${event.status}`,
    `  type       ${event.type}`,
    `  employee   ${event.employee.id} <${event.employee.email}>`,
    `  occurred   ${event.occurredAt}`,
    `  attempts   ${event.attempts}`,
    `  source     ${event.source}`,
    `  received   ${event.receivedAt}`,
    `  updated    ${event.updatedAt}`,
  ];
  if (event.steps.length === 0) lines.push('', '  no TrueFoundry call made yet');
  else {
    const rows = event.steps.map((step) => [
      step.key,
      step.action,
      step.email ?? event.employee.email,
      step.outcome,
      step.httpStatus === undefined ? '-' : String(step.httpStatus),
      String(step.attempt),
      step.startedAt,
      `${step.durationMs} ms`,
      step.error ?? '',
    ]);
    const table = formatTable(
      ['STEP', 'ACTION', 'ACCOUNT', 'OUTCOME', 'HTTP', 'ATTEMPT', 'STARTED', 'TOOK', 'ERROR'],
      rows,
    );
    lines.push('', ...table.map((row) => `  ${row}`));
  }
  if (event.error) lines.push('', `  error      ${event.error}`);
  if (event.note) lines.push('', `  note       ${event.note}`);
  // Each entry is one line: a line break or control in a field from the server is escaped, not printed.
  return lines.map(printable);
}
