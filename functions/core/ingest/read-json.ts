import { type ParseError, parse, printParseErrorCode } from 'jsonc-parser';

export type JsonReadResult =
  | { ok: true; value: unknown }
  | { ok: false; message: string; line: number; column: number };

/** Deeper than any HR event (four levels) by far; deep enough input only serves to exhaust the stack. */
export const MAX_JSON_DEPTH = 64;

/**
 * Parses strict JSON; on failure says where, as line and column. V8's own messages give a position only
 * for some errors, so the position comes from jsonc-parser (strict mode) when JSON.parse fails. JSON
 * nested deeper than 64 levels is refused before parsing: everything that walks the value afterwards
 * (validation, JSON.stringify, jsonc-parser) recurses, and would end in a stack overflow.
 */
export function readJson(text: string): JsonReadResult {
  const tooDeep = offsetTooDeep(text);
  if (tooDeep !== undefined) {
    const { line, column } = positionOf(text, tooDeep);
    return {
      ok: false,
      message: `JSON nested deeper than ${MAX_JSON_DEPTH} levels at line ${line}, column ${column}`,
      line,
      column,
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const errors: ParseError[] = [];
    parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    const first = errors[0];
    const { line, column } = positionOf(text, first?.offset ?? 0);
    const reason = first ? describeCode(printParseErrorCode(first.error)) : (error as Error).message;
    return {
      ok: false,
      message: `malformed JSON at line ${line}, column ${column}: ${reason}`,
      line,
      column,
    };
  }
}

/**
 * Where a JSON text first opens its (max + 1)th nested array or object, or undefined: one pass over the
 * characters, skipping strings, so it costs far less than the parse it guards.
 */
export function offsetTooDeep(text: string, max = MAX_JSON_DEPTH): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      // A backslash: skip the character it escapes.
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}

function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

// "CloseBraceExpected" → "close brace expected"
const describeCode = (code: string): string => code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
