/*
 * `RECONCILE_IGNORE`: the accounts reconciliation lists under `ignored` and never touches (service accounts,
 * admins). Apart from compare.ts so that settings.ts can read the variable without the engine.
 */

/** Accounts reconciliation never touches: `RECONCILE_IGNORE`'s globs, `*` any run, `?` one character. */
export type IgnoreMatcher = (email: string) => boolean;

export function ignoreMatcher(patterns: readonly string[]): IgnoreMatcher {
  const regexes = patterns
    .map((pattern) => pattern.normalize('NFC').trim().toLowerCase())
    .filter((pattern) => pattern !== '')
    .map((pattern) => {
      const literal = [...pattern].map((c) =>
        c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
      );
      return new RegExp(`^${literal.join('')}$`, 'isu');
    });
  return (email) => regexes.some((regex) => regex.test(email));
}

/** `RECONCILE_IGNORE` as written (comma-separated globs) to its patterns. */
export const parseIgnoreList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((pattern) => pattern.trim())
    .filter((pattern) => pattern !== '');
