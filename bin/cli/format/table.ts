import { printable } from './printable';

/**
 * Columns padded to their widest cell; the last column is not padded (it may be long, e.g. an error).
 * Cells are escaped first (printable.ts): a line break or control in a cell neither breaks the table nor
 * reaches the terminal, and the widths are those of what is printed.
 */
export function formatTable(header: readonly string[], cells: readonly (readonly string[])[]): string[] {
  const rows = cells.map((row) => row.map(printable));
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** One line of at most `max` characters, for a table cell that holds free text. */
export function clip(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}
