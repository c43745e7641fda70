import { UNPRINTABLE } from '../../../functions/core/events/safe-text';

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
