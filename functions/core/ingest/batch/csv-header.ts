import { BatchFormatError } from './batch-format-error';
import { CSV_COLUMNS, type CsvColumn, REQUIRED_CSV_COLUMNS } from './csv-columns';
import type { CsvRecord } from './csv-records';

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
