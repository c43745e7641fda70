import { UNPRINTABLE } from '../../functions/core/events/safe-text';
import { neutraliseFormula } from '../../functions/core/events/spreadsheet-cell';

/** Where the CLI writes: process.stdout/stderr in real use, string buffers in tests. */
export type CliOutput = { write(text: string): unknown; isTTY?: boolean; columns?: number };

/**
 * Writes whole lines, so commands never forget the newline, with every control and invisible character
 * in them escaped (`printableLines`): nothing from the server reaches the terminal raw.
 */
export const writeLines = (out: CliOutput, lines: readonly string[]): void => {
  if (lines.length > 0) out.write(`${lines.map(printableLines).join('\n')}\n`);
};

/**
 * Text from the server (emails, ids, reasons, errors) as it may be written to a terminal: every control
 * character (C0, DEL, C1: ESC would start an escape sequence that recolours, moves the cursor or retitles
 * the window), bidirectional control, zero-width or other invisible character, line break and tab is
 * shown as an escape instead, `\x1b` for C0 and `\u202e` above it, so what is printed is what is there.
 * JSON output stays JSON: JSON.stringify already writes C0 as `\u001b`, and the `\uXXXX` forms (DEL
 * included) are JSON escapes too. The one helper every printer goes through (writeLines, formatTable).
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapeOf);
}

/** `printable` for text of several lines: the line breaks stay, everything else is escaped. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}

function escapeOf(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  if (code < 0x20) return `\\x${code.toString(16).padStart(2, '0')}`;
  // Astral characters (tags) as their UTF-16 pair, so JSON output stays valid.
  return [...Array(character.length).keys()]
    .map((i) => `\\u${character.charCodeAt(i).toString(16).padStart(4, '0')}`)
    .join('');
}

/**
 * A value from the server (an id, an email, a reason) where a report shows it as a field of its own: one
 * line (`printable`), and never a formula to a spreadsheet the report is pasted or imported into
 * (`neutraliseFormula`: `=cmd|…` is shown as `'=cmd|…`). JSON output (`--json`) is data and left exact.
 */
export function field(value: string): string {
  return printable(neutraliseFormula(value));
}

/**
 * Columns padded to their widest cell; the last column is not padded (it may be long, e.g. an error).
 * Cells go through `field` first: a line break or control in a cell neither breaks the table nor reaches
 * the terminal, no cell reads as a formula, and the widths are those of what is printed.
 */
export function formatTable(header: readonly string[], cells: readonly (readonly string[])[]): string[] {
  const rows = cells.map((row) => row.map(field));
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
