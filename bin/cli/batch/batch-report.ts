import type { BatchProgress } from './progress-state';

/** The final word on an upload: totals, then every rejected row by its line in the file as the operator has it. */
export function batchReport(name: string, progress: BatchProgress, rowsTotal: number): string[] {
  const { accepted, duplicates, rejected } = progress.totals;
  const requests = `${progress.chunks} request${progress.chunks === 1 ? '' : 's'}`;
  return [
    `${name} → batch ${progress.batchId}`,
    `  rows      ${rowsTotal} in ${requests}`,
    `  accepted  ${accepted + duplicates} (${accepted} new, ${duplicates} accepted before)`,
    `  rejected  ${rejected.length}`,
    ...rejectedRows(name, rejected),
  ];
}

export function rejectedRows(name: string, rejected: BatchProgress['totals']['rejected']): string[] {
  if (rejected.length === 0) return [];
  const sorted = [...rejected].sort((a, b) => a.line - b.line);
  return [
    `rejected rows (line in ${name}: error)`,
    ...sorted.map((row) => `  line ${row.line}: ${row.error}`),
  ];
}
