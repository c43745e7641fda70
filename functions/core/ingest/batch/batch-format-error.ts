/**
 * The batch file itself cannot be read: a bad header or quoting that leaves the rows unknowable. Nothing
 * in such a file is accepted, so the uploader fixes the file and sends it again. `line` and `column` are
 * 1-based; `column` counts cells (fields), not characters.
 */
export class BatchFormatError extends Error {
  readonly line?: number;
  readonly column?: number;

  constructor(reason: string, at: { line?: number; column?: number } = {}) {
    super(`${locationOf(at)}${reason}`);
    this.name = 'BatchFormatError';
    this.line = at.line;
    this.column = at.column;
  }
}

function locationOf({ line, column }: { line?: number; column?: number }): string {
  if (line === undefined) return '';
  return column === undefined ? `line ${line}: ` : `line ${line}, column ${column}: `;
}
