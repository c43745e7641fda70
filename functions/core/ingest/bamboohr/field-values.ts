/** BambooHR's way of saying "no date" in date fields. */
const EMPTY_DATE = '0000-00-00';

/**
 * The trimmed value of the field with this label, or undefined when absent or blank. Labels match exactly
 * first, then ignoring case and surrounding spaces, since admins retype labels when they configure things.
 */
export function fieldValue(fields: Record<string, string>, label: string): string | undefined {
  const exact = fields[label];
  const raw = exact ?? Object.entries(fields).find(([key]) => sameLabel(key, label))?.[1];
  const value = raw?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** Like `fieldValue`, but BambooHR's placeholder date `0000-00-00` counts as blank. */
export function dateFieldValue(fields: Record<string, string>, label: string): string | undefined {
  const value = fieldValue(fields, label);
  return value === EMPTY_DATE ? undefined : value;
}

export function includesLabel(labels: readonly string[], label: string): boolean {
  return labels.some((candidate) => sameLabel(candidate, label));
}

function sameLabel(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}
