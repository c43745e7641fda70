/*
 * Formula injection ("CSV injection"): a spreadsheet that opens a report reads a cell beginning with `=`,
 * `+`, `-` or `@` as a formula, and a formula can fetch a URL with the sheet's data (HYPERLINK, WEBSERVICE)
 * or, in old Excel, start a program (DDE: `=cmd|' /C calc'!A0`). The values our reports show come from HR
 * systems and TrueFoundry (event and employee ids, emails, names, reasons), so one crafted HR record would
 * reach the operator's spreadsheet. This is the one rule every report writer applies to each field it
 * prints (bin/cli/output.ts): OWASP's advice, a `'` before the formula character, which spreadsheets show as
 * text and never evaluate.
 */

/**
 * What starts a formula: the four ASCII characters and their fullwidth forms (U+FF1D, U+FF0B, U+FF0D,
 * U+FF20), which some spreadsheet imports map to the ASCII ones; cheap to cover.
 */
const FORMULA_START = /^[=+\-@\uff1d\uff0b\uff0d\uff20]/u;
/**
 * Whitespace a spreadsheet may drop in front of a cell, or that a whitespace-separated import splits on: a
 * tab or carriage return before `=` is the classic way past a check of the first character only.
 */
const LEADING_BLANKS = /^[ \t\r\n]*/;
/** A plain number (a count, `-1`) or the lone `-` of an empty cell: nothing a spreadsheet evaluates. */
const PLAIN_NUMBER_OR_DASH = /^(-|[+-]?\d+(\.\d+)?)$/;

/** Whether a spreadsheet could read `value`, as a cell of its own, as a formula. */
export function startsFormula(value: string): boolean {
  const rest = value.slice(LEADING_BLANKS.exec(value)?.[0].length ?? 0);
  return FORMULA_START.test(rest) && !PLAIN_NUMBER_OR_DASH.test(rest);
}

/**
 * `value` as a spreadsheet shows it as text: a `'` inserted before the formula character (after any leading
 * blanks, so that a tab or line break in front cannot hide it from an import that drops them); any other
 * value unchanged. Deterministic and idempotent: a neutralised value does not start a formula.
 */
export function neutraliseFormula(value: string): string {
  if (!startsFormula(value)) return value;
  const blanks = LEADING_BLANKS.exec(value)?.[0] ?? '';
  return `${blanks}'${value.slice(blanks.length)}`;
}
