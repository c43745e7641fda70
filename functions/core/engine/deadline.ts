/**
 * When the current delivery must stop: a Lambda invocation's end less a margin for recording the outcome.
 * `signal` aborts in-flight TrueFoundry calls at `atMs`; `stepMs` is the longest one step may take (its
 * call's timeout), so that no step starts that cannot finish.
 */
export type Deadline = { atMs: number; signal: AbortSignal; stepMs: number };

/** A deadline `remainingMs` from now, kept `marginMs` short of it; the timer does not hold the process open. */
export function deadlineIn(remainingMs: number, options: { marginMs: number; stepMs: number }): Deadline {
  const atMs = Date.now() + Math.max(0, remainingMs - options.marginMs);
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error('the invocation is about to time out')),
    Math.max(0, atMs - Date.now()),
  );
  timer.unref();
  return { atMs, signal: controller.signal, stepMs: options.stepMs };
}

/** Whether a step started now could still finish before the deadline. */
export const hasTimeForStep = (deadline: Deadline | undefined, nowMs: number): boolean =>
  deadline === undefined || nowMs + deadline.stepMs <= deadline.atMs;
