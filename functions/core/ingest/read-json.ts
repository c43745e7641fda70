import { type ParseError, parse, printParseErrorCode } from 'jsonc-parser';

export type JsonReadResult =
  | { ok: true; value: unknown }
  | { ok: false; message: string; line: number; column: number };

/**
 * Parses strict JSON; on failure says where, as line and column. V8's own messages give a position only
 * for some errors, so the position comes from jsonc-parser (strict mode) when JSON.parse fails.
 */
export function readJson(text: string): JsonReadResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const errors: ParseError[] = [];
    parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    const first = errors[0];
    const offset = first?.offset ?? 0;
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    const reason = first ? describeCode(printParseErrorCode(first.error)) : (error as Error).message;
    return {
      ok: false,
      message: `malformed JSON at line ${line}, column ${column}: ${reason}`,
      line,
      column,
    };
  }
}

// "CloseBraceExpected" → "close brace expected"
const describeCode = (code: string): string => code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
