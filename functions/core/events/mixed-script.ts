import { domainToUnicode } from 'node:url';

/*
 * Homograph domains: `xn--exmple-4nf.com` is `exаmple.com` with a Cyrillic `а`, and reads as example.com
 * wherever a mail client, TrueFoundry's UI or a log viewer shows the Unicode form. The rule here is the
 * label rule browsers apply to IDN (Unicode TS #39, "highly restrictive"): the letters of one label come
 * from one script, or from Latin with the scripts Chinese, Japanese and Korean names are written in. Written
 * by hand because Node has no script-property API beyond regular expressions, and no library in the
 * project does this. A label wholly in another script (`аррӏе`, all Cyrillic) passes, as in browsers: its
 * ASCII form shows it for what it is, and the policy's domain list (docs/configuration.md) is the way to
 * allow only the company's own domains.
 */

/** The scripts told apart; a letter of any other is `Other`. Digits, hyphens and marks belong to none. */
const SCRIPTS = [
  'Latin',
  'Cyrillic',
  'Greek',
  'Armenian',
  'Georgian',
  'Cherokee',
  'Coptic',
  'Hebrew',
  'Arabic',
  'Devanagari',
  'Thai',
  'Han',
  'Hiragana',
  'Katakana',
  'Hangul',
  'Bopomofo',
] as const;
const SCRIPT_PATTERNS = SCRIPTS.map((name) => [name, new RegExp(`^\\p{Script=${name}}$`, 'u')] as const);

/** The mixes UTS #39 allows in one label besides a single script: Latin with the CJK scripts. */
const ALLOWED_MIXES: readonly ReadonlySet<string>[] = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
];

function scriptOf(character: string): string | undefined {
  if (!/^\p{L}$/u.test(character)) return undefined;
  return SCRIPT_PATTERNS.find(([, pattern]) => pattern.test(character))?.[0] ?? 'Other';
}

/** The scripts of a label's letters, in order of first appearance. */
export function scriptsOf(label: string): string[] {
  const found = new Set<string>();
  for (const character of label) {
    const script = scriptOf(character);
    if (script !== undefined) found.add(script);
  }
  return [...found];
}

/**
 * Why a domain in its ASCII (IDNA) form reads as another, or undefined: the first label whose Unicode form
 * mixes scripts in a way UTS #39 does not allow, named by its ASCII form (safe to print and log).
 */
export function mixedScriptProblem(asciiDomain: string): string | undefined {
  // Labels without `xn--` are ASCII letters, digits and hyphens: Latin only.
  if (!asciiDomain.includes('xn--')) return undefined;
  const asciiLabels = asciiDomain.split('.');
  const unicodeLabels = domainToUnicode(asciiDomain).split('.');
  for (const [index, label] of unicodeLabels.entries()) {
    const scripts = scriptsOf(label);
    if (scripts.length <= 1 || ALLOWED_MIXES.some((mix) => scripts.every((s) => mix.has(s)))) continue;
    return `it mixes ${scripts.join(' and ')} letters in one label (${asciiLabels[index] ?? label}), so it reads as another domain`;
  }
  return undefined;
}
