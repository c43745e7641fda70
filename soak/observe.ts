import { waitFor } from '../test/support/runtime-process';
import { hrProvisioning } from './cli';
import type { SoakTarget } from './target';

/** What GET /events/{id} says of an event, as far as the checks need it. */
export type EventView = {
  id: string;
  status: string;
  sequence?: number;
  person?: string;
  error?: string;
  note?: string;
  attempts?: number;
  steps?: { action: string; email?: string; outcome: string; attempt: number; startedAt: string }[];
};

export type DeadLetter = { eventId: string; reason?: string };

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set([
  'succeeded',
  'superseded',
  'failed',
  'cancelled',
]);
const OPEN_STATUSES = ['queued', 'running', 'scheduled', 'held'];
const READ_CONCURRENCY = 8;

/** GET with the token, retried while the target is restarting (a crash may come during the drain). */
async function read(
  target: SoakTarget,
  path: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  for (let tries = 1; ; tries++) {
    const endpoint = await target.endpoint();
    try {
      const response = await fetch(`${endpoint.url}${path}`, {
        headers: { authorization: `Bearer ${endpoint.token}` },
      });
      if (response.status >= 500 && tries < 20) throw new Error(`answered ${response.status}`);
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    } catch (error) {
      if (tries >= 20) throw new Error(`GET ${path}: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Runs `work` over `items`, `limit` at a time. */
async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** Each event's view by GET /events/{id}; an id never accepted reads as status `missing`. */
export async function readEvents(
  target: SoakTarget,
  ids: readonly string[],
): Promise<Map<string, EventView>> {
  const views = await inParallel(ids, READ_CONCURRENCY, async (id) => {
    const { status, json } = await read(target, `/events/${encodeURIComponent(id)}`);
    return status === 200
      ? (json as EventView)
      : { id, status: status === 404 ? 'missing' : `http-${status}` };
  });
  return new Map(views.map((view) => [view.id, view]));
}

/** True when no event is in an open status (one cheap page per status). */
async function nothingOpen(target: SoakTarget): Promise<boolean> {
  for (const status of OPEN_STATUSES) {
    const { json } = await read(target, `/events?status=${status}&limit=1`);
    if (((json.events as unknown[] | undefined) ?? []).length > 0) return false;
  }
  return true;
}

/**
 * Waits until every id is terminal: first until no event is open, then by reading each id; returns the
 * views (some still open when the time ran out: the caller reports them).
 */
export async function waitForTerminal(
  target: SoakTarget,
  ids: readonly string[],
  timeoutMs: number,
): Promise<Map<string, EventView>> {
  try {
    return await waitFor(
      `all ${ids.length} events terminal`,
      async () => {
        if (!(await nothingOpen(target))) return undefined;
        const views = await readEvents(target, ids);
        return [...views.values()].every((v) => TERMINAL_STATUSES.has(v.status)) ? views : undefined;
      },
      timeoutMs,
    );
  } catch {
    // Out of time: what there is, so the report can name the events left open.
    return readEvents(target, ids).catch(() => new Map());
  }
}

/** The dead letters through `hr-provisioning dlq list --json`, as an operator reads them. */
export async function deadLettersByCli(target: SoakTarget): Promise<DeadLetter[] | string> {
  const run = await hrProvisioning(
    await target.endpoint(),
    ['dlq', 'list', '--json', '--max', '100000'],
    target.cliEnvironment(),
  );
  if (run.code !== 0) return `hr-provisioning dlq list exited ${run.code}: ${run.stderr.slice(0, 300)}`;
  try {
    return (JSON.parse(run.stdout) as { deadLetters: DeadLetter[] }).deadLetters;
  } catch (error) {
    return `hr-provisioning dlq list --json printed no JSON: ${(error as Error).message}`;
  }
}

/** The dead letters through GET /dlq (the local runtime's route; on AWS the CLI reads SQS instead). */
export async function deadLettersByApi(target: SoakTarget): Promise<DeadLetter[] | undefined> {
  if (target.kind !== 'start') return undefined;
  const { json } = await read(target, '/dlq');
  return json.deadLetters as DeadLetter[];
}
