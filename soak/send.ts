import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import type { CanonicalEvent } from '../functions/core/events/canonical-event';
import { hrProvisioning } from './cli';
import type { Chunk } from './load';
import type { SoakSecrets } from './secrets';
import type { Endpoint, SoakTarget } from './target';

/*
 * Sends the planned requests one after the other, as one HR system would: in order, each retried until the
 * runtime answers it. A request cut off by a crash is sent again unchanged once the runtime is back; ingest
 * recognises what it recorded before by the ids, so a retry never makes a second event.
 */

/** What a request answered that it must not have: a refusal, a conflict, a rejected row. */
export type IngestProblem = { request: number; message: string };

export type SendCounters = { requests: number; retries: number; cliRuns: number };

/** A 5xx or a dropped connection: the runtime was killed or is starting; try again once it listens. */
class RetryableAnswer extends Error {}

const MAX_TRIES = 60;
/** Between tries while the target restarts: its endpoint() waits for the restart, this only paces a refusal. */
const RETRY_PAUSE_MS = 200;

const CSV_HEADER = 'id,type,employee_id,email,name,roles,occurred_at';

/** A CSV cell; the soak's values hold no quotes or commas, but a name could, so quote as RFC 4180 does. */
const cell = (value: string | undefined) =>
  value === undefined ? '' : /[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;

export function csvOf(events: readonly CanonicalEvent[]): string {
  const rows = events.map((e) =>
    [e.id, e.type, e.employee.id, e.employee.email, e.employee.name, e.roles?.join(';'), e.occurredAt]
      .map(cell)
      .join(','),
  );
  return `${[CSV_HEADER, ...rows].join('\n')}\n`;
}

type Answer = { status: number; body: Record<string, unknown> };

async function post(endpoint: Endpoint, path: string, body: string, headers: Record<string, string>) {
  let response: Response;
  try {
    response = await fetch(`${endpoint.url}${path}`, { method: 'POST', headers, body });
  } catch (error) {
    throw new RetryableAnswer(`POST ${path}: ${(error as Error).message}`);
  }
  const text = await response.text().catch(() => '');
  if (response.status >= 500) throw new RetryableAnswer(`POST ${path} answered ${response.status}`);
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: response.status, body: parsed } satisfies Answer;
}

/** The ids a POST /events answer lists, and any it names as a conflict. */
function checkEventsAnswer(answer: Answer, events: readonly CanonicalEvent[]): string | undefined {
  if (answer.status !== 202) return `answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`;
  const listed = (answer.body.events ?? []) as { id: string; conflict?: string }[];
  const conflicts = listed.filter((e) => e.conflict !== undefined);
  if (conflicts.length > 0) return `conflicts: ${conflicts.map((e) => `${e.id} (${e.conflict})`).join('; ')}`;
  const ids = new Set(listed.map((e) => e.id));
  const missing = events.filter((e) => !ids.has(e.id)).map((e) => e.id);
  return missing.length > 0 ? `the answer does not list ${missing.join(', ')}` : undefined;
}

export class Sender {
  readonly problems: IngestProblem[] = [];
  readonly counters: SendCounters = { requests: 0, retries: 0, cliRuns: 0 };
  private readonly webhook: Webhook;
  private readonly files = mkdtempSync(join(tmpdir(), 'hrp-soak-'));
  private batches = 0;

  constructor(
    private readonly target: SoakTarget,
    secrets: SoakSecrets,
  ) {
    this.webhook = new Webhook(secrets.webhookSecret);
  }

  /** Sends every chunk in order, each once it has an answer to the one before. */
  async sendAll(chunks: readonly Chunk[]): Promise<void> {
    for (const chunk of chunks) await this.send(chunk);
  }

  close(): void {
    rmSync(this.files, { recursive: true, force: true });
  }

  private async send(chunk: Chunk): Promise<void> {
    const request = ++this.counters.requests;
    const attempt = this.attemptFor(chunk, request);
    for (let tries = 1; ; tries++) {
      try {
        const problem = await attempt(await this.target.endpoint());
        if (problem !== undefined) this.problems.push({ request, message: `${chunk.channel}: ${problem}` });
        return;
      } catch (error) {
        if (!(error instanceof RetryableAnswer) || tries >= MAX_TRIES) {
          this.problems.push({ request, message: `${chunk.channel}: gave up: ${(error as Error).message}` });
          return;
        }
        this.counters.retries++;
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
      }
    }
  }

  /** The request of a chunk, built once so that every retry sends exactly the same bytes (and webhook id). */
  private attemptFor(chunk: Chunk, request: number): (endpoint: Endpoint) => Promise<string | undefined> {
    const { events } = chunk;
    switch (chunk.channel) {
      case 'single': {
        const body = JSON.stringify(events[0]);
        return async (endpoint) =>
          checkEventsAnswer(
            await post(endpoint, '/events', body, {
              authorization: `Bearer ${endpoint.token}`,
              'content-type': 'application/json',
            }),
            events,
          );
      }
      case 'signed': {
        const body = JSON.stringify(events);
        // One message, one id: a retry of the same body reuses it, as a Standard Webhooks sender does.
        const id = `msg_${createHash('sha256').update(body).digest('hex').slice(0, 24)}`;
        return async (endpoint) => {
          const at = new Date();
          const headers = {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
            'webhook-signature': this.webhook.sign(id, at, body),
          };
          return checkEventsAnswer(await post(endpoint, '/events', body, headers), events);
        };
      }
      case 'csv': {
        const body = csvOf(events);
        const batchId = `soak-${++this.batches}`;
        return async (endpoint) => {
          const answer = await post(endpoint, `/batch?batchId=${batchId}`, body, {
            authorization: `Bearer ${endpoint.token}`,
            'content-type': 'text/csv',
          });
          if (answer.status !== 202)
            return `answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`;
          const rejected = (answer.body.rejected ?? []) as unknown[];
          const counted = Number(answer.body.accepted ?? 0) + Number(answer.body.duplicates ?? 0);
          if (rejected.length > 0) return `rejected rows: ${JSON.stringify(rejected).slice(0, 300)}`;
          return counted === events.length ? undefined : `accepted ${counted} of ${events.length} rows`;
        };
      }
      case 'cli': {
        const file = join(this.files, `request-${request}.jsonl`);
        writeFileSync(file, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
        return async (endpoint) => {
          this.counters.cliRuns++;
          const run = await hrProvisioning(endpoint, ['send', file], this.target.cliEnvironment());
          if (run.code === 0) return undefined;
          // Refused events (exit 1 with "refused") are a problem; anything else is the runtime going away.
          if (/refused/.test(run.stderr)) return `hr-provisioning send refused: ${run.stderr.slice(0, 300)}`;
          throw new RetryableAnswer(`hr-provisioning send exited ${run.code}: ${run.stderr.slice(0, 200)}`);
        };
      }
    }
  }
}
