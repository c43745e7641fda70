import { CsvError, type Options, parse } from 'csv-parse/sync';
import { BatchFormatError } from './batch';

/*
 * The structure of a batch CSV, before any row means anything: records numbered by the line each starts
 * on, and the header that says which cell holds which column. The CLI splits files with the same code, so
 * it cuts exactly the records the server reads.
 */

/** The columns a batch CSV may have, in the order the docs list them; files may order them freely. */
export const CSV_COLUMNS = [
  'id',
  'type',
  'employee_id',
  'email',
  'name',
  'department',
  'title',
  'location',
  'employment_type',
  'manager_email',
  'roles',
  'resource_roles',
  'occurred_at',
  'effective_at',
] as const;

export type CsvColumn = (typeof CSV_COLUMNS)[number];

/** Without these a row cannot say what happened to whom; `employee_id` falls back to the email. */
export const REQUIRED_CSV_COLUMNS: readonly CsvColumn[] = ['type', 'email'];

const KNOWN_COLUMNS = new Set<string>(CSV_COLUMNS);
const isCsvColumn = (name: string): name is CsvColumn => KNOWN_COLUMNS.has(name);

/** A validated header: which cell of a row holds which column. */
export class CsvHeader {
  readonly #cellIndex: ReadonlyMap<CsvColumn, number>;

  constructor(
    cellIndex: ReadonlyMap<CsvColumn, number>,
    /** How many cells every row must have. */
    readonly width: number,
  ) {
    this.#cellIndex = cellIndex;
  }

  /** The row's value in `column`; undefined when the column is absent or the cell empty ("not given"). */
  cell(cells: readonly string[], column: CsvColumn): string | undefined {
    const index = this.#cellIndex.get(column);
    const value = index === undefined ? undefined : cells[index]?.trim();
    return value === '' ? undefined : value;
  }
}

/**
 * Checks the header row and says every problem at once, since each costs the uploader a round trip.
 * Names match case-insensitively because spreadsheet exports capitalise headers.
 */
export function readCsvHeader({ line, cells }: CsvRecord): CsvHeader {
  const cellIndex = new Map<CsvColumn, number>();
  const problems: string[] = [];
  let firstProblemColumn: number | undefined;
  const problemAt = (index: number, problem: string) => {
    firstProblemColumn ??= index + 1;
    problems.push(problem);
  };
  cells.forEach((cell, index) => {
    const name = cell.trim().toLowerCase();
    if (name === '') problemAt(index, `column ${index + 1} has no name`);
    else if (!isCsvColumn(name)) problemAt(index, `unknown column "${cell.trim()}" (column ${index + 1})`);
    else if (cellIndex.has(name)) problemAt(index, `column "${name}" appears twice`);
    else cellIndex.set(name, index);
  });
  const missing = REQUIRED_CSV_COLUMNS.filter((column) => !cellIndex.has(column));
  if (missing.length > 0) {
    const names = missing.map((column) => `"${column}"`).join(', ');
    problems.push(`missing required column${missing.length > 1 ? 's' : ''} ${names}`);
  }
  if (problems.length > 0) {
    throw new BatchFormatError(`${problems.join('; ')}; known columns: ${CSV_COLUMNS.join(', ')}`, {
      line,
      column: firstProblemColumn,
    });
  }
  return new CsvHeader(cellIndex, cells.length);
}

/** One CSV record as read: its cells and the physical line it starts on. */
export type CsvRecord = { line: number; cells: string[] };

/** How every part of the project reads CSV, so the CLI splits a file into exactly the records the server sees. */
export const CSV_OPTIONS: Options = {
  bom: true,
  trim: true,
  // Explicit, because csv-parse otherwise takes the first line end it meets for the whole file and a
  // file with mixed line ends (rows pasted from another export) would merge rows.
  record_delimiter: ['\r\n', '\n', '\r'],
  // Rows with the wrong number of cells are kept for the caller to reject one by one.
  relax_column_count: true,
  // Every physical line yields a record (a blank one as ['']), so lines can be counted from the records;
  // the caller skips blank records.
  skip_empty_lines: false,
};

/**
 * Reads CSV text into records numbered by the line each starts on. Broken quoting throws
 * BatchFormatError, because after it no record boundary can be trusted.
 */
export function readCsvRecords(text: string): CsvRecord[] {
  let rows: string[][];
  try {
    rows = parse(text, CSV_OPTIONS);
  } catch (error) {
    if (error instanceof CsvError) throw formatErrorOf(text, error);
    throw error;
  }
  return numberLines(rows);
}

/**
 * Line numbers come from the records themselves: each record takes one line plus the line breaks inside
 * its quoted cells. csv-parse's own per-record info is slower (a snapshot object per record) and counts
 * a CRLF inside a quoted cell as two lines.
 */
function numberLines(rows: string[][]): CsvRecord[] {
  let line = 1;
  return rows.map((cells) => {
    const record = { line, cells };
    line += 1 + lineBreaksIn(cells);
    return record;
  });
}

const LINE_BREAK = /\r\n|\r|\n/g;

function lineBreaksIn(cells: readonly string[]): number {
  let count = 0;
  for (const cell of cells) {
    // Most cells hold no line break; skip the regex for them.
    if (cell.includes('\n') || cell.includes('\r')) count += cell.match(LINE_BREAK)?.length ?? 0;
  }
  return count;
}

/**
 * Points at the line where the broken record starts: csv-parse's own line is where it gave up, which
 * for an unclosed quote is the end of the file. The records before it are read again to count their
 * lines; this costs a second pass only for a file that is being refused anyway.
 */
function formatErrorOf(text: string, error: CsvError): BatchFormatError {
  const recordsBefore = typeof error.records === 'number' ? error.records : 0;
  const before = recordsBefore > 0 ? parse(text, { ...CSV_OPTIONS, to: recordsBefore }) : [];
  const line = before.length === 0 ? 1 : numberLinesAfter(before);
  // csv-parse's column is the 0-based index of the cell being read.
  const column = typeof error.column === 'number' ? error.column + 1 : undefined;
  return new BatchFormatError(describeCsvError(error), { line, column });
}

function numberLinesAfter(rows: string[][]): number {
  const last = numberLines(rows).at(-1)!;
  return last.line + 1 + lineBreaksIn(last.cells);
}

function describeCsvError(error: CsvError): string {
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted cell is never closed (a " opens it and no " ends it)';
    case 'INVALID_OPENING_QUOTE':
      return 'a quote inside an unquoted cell; quote the whole cell and double each quote inside it ("")';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'text after the closing quote of a quoted cell; double each quote inside a quoted cell ("")';
    default:
      return error.message;
  }
}
