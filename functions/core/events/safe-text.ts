/*
 * Characters no HR field has a use for, which can make one value look like another or rewrite a
 * terminal: C0 and C1 controls (ESC starts terminal escape sequences, NUL truncates in C), DEL, line and
 * paragraph separators, bidirectional controls (U+202E shows `moc.elpmaxe` as `example.com`), zero-width
 * and other invisible characters, variation selectors and tag characters. In free text only, tabs and line
 * breaks (a quoted CSV cell may hold a two-line title) and the zero-width (non-)joiners U+200C and U+200D
 * (Persian and Indic names, emoji need them) are allowed; printers escape what they show (bin/cli).
 */
const INVISIBLE =
  '\\u007f-\\u009f\\u00ad\\u034f\\u061c\\u115f\\u1160\\u17b4\\u17b5\\u180b-\\u180f\\u200b\\u200e\\u200f\\u2028-\\u202e\\u2060-\\u206f\\u3164\\ufe00-\\ufe0f\\ufeff\\uffa0\\ufff9-\\ufffb';
const TAGS = '\\u{e0000}-\\u{e007f}';
const IDENTIFIER_UNSAFE = new RegExp(`[\\u0000-\\u001f\\u200c\\u200d${INVISIBLE}]|[${TAGS}]`, 'u');
const FREE_TEXT_UNSAFE = new RegExp(
  `[\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f${INVISIBLE}]|[${TAGS}]`,
  'u',
);

/** Every character a printer must not write as is: all of the above, tabs and line breaks included. */
export const UNPRINTABLE = new RegExp(IDENTIFIER_UNSAFE.source, 'gu');

export type TextKind = 'free text' | 'identifier';

/**
 * Why a value is refused, naming the first offending character by code point (never printing it), or
 * undefined when it holds none. Leading and trailing spaces, tabs and line breaks are left to the caller's
 * trimming. `identifier` (emails) refuses tabs, line breaks and the zero-width joiners too.
 */
export function unsafeCharacterIn(value: string, kind: TextKind = 'free text'): string | undefined {
  const inner = value.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  const found = (kind === 'identifier' ? IDENTIFIER_UNSAFE : FREE_TEXT_UNSAFE).exec(inner);
  if (!found) return undefined;
  return `must not contain control, invisible or bidirectional characters (${codePointOf(found[0])} at character ${[...inner.slice(0, found.index)].length + 1})`;
}

/** `U+202E`: how a character is named in a message. */
export const codePointOf = (character: string): string =>
  `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
