import type { OrderMark } from './ports';

/**
 * Whether `a` comes after `b` in a person's order: later time, or the same time and accepted later. Times
 * are one fixed UTC ISO format, so they compare as strings.
 */
export function isNewer(
  a: Pick<OrderMark, 'at' | 'sequence'>,
  b: Pick<OrderMark, 'at' | 'sequence'>,
): boolean {
  return a.at > b.at || (a.at === b.at && a.sequence > b.sequence);
}

/** The newer of two marks, either possibly absent. */
export function newestOf(a: OrderMark | undefined, b: OrderMark | undefined): OrderMark | undefined {
  if (!a) return b;
  if (!b) return a;
  return isNewer(b, a) ? b : a;
}
