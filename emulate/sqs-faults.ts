// Types only: fauxqs's app is a Fastify instance, and fauxqs's own declarations import these.
import type { FastifyInstance } from 'fastify';

/**
 * `PUT <sqs endpoint>/__emulate/faults {"sendFailures": [...], "lostDeleteBatches": n}`: SendMessageBatch
 * entries SQS will fail, and DeleteMessageBatch calls whose messages come back instead of going away.
 */
export const SQS_FAULTS_PATH = '/__emulate/faults';

/**
 * One entry failure of SendMessageBatch, as SQS reports it in `Failed` while taking the batch's other
 * entries: the entries of `groupId` fail `times` times (default once), with `code` and, when `senderFault`,
 * as the sender's fault (an entry SQS will never take, e.g. over its size limit).
 */
export type SendFailure = { groupId: string; code: string; senderFault?: boolean; times?: number };

type Entry = { Id?: string; MessageGroupId?: string };
type FailedEntry = { Id: string; Code: string; Message: string; SenderFault: boolean };
type Injected = { failed: FailedEntry[] };

const SEND_BATCH = 'AmazonSQS.SendMessageBatch';
const DELETE_BATCH = 'AmazonSQS.DeleteMessageBatch';
const injectedOf = new WeakMap<object, Injected>();

/**
 * A fault switch on the emulated SQS endpoint, so that tests reach the ingest's handling of a partly failed
 * SendMessageBatch (retries, order per person, sender faults) through the real wire protocol; fauxqs itself
 * never fails an entry. The failing entries are taken out of the request before fauxqs sees it, and put
 * back into the answer's `Failed` list. A lost delete is SQS's at-least-once delivery at its plainest: the
 * call is answered as a success, and its messages are made visible again at once (ChangeMessageVisibility
 * to 0) instead of deleted, so the next receive hands them out again.
 */
export function addSqsFaultSwitch(app: FastifyInstance): void {
  let failures: (SendFailure & { left: number })[] = [];
  let lostDeleteBatches = 0;

  app.put(SQS_FAULTS_PATH, async (request, reply) => {
    // fauxqs parses bodies of other types than its own as bytes.
    const raw = request.body;
    const body = (Buffer.isBuffer(raw) || typeof raw === 'string' ? JSON.parse(String(raw)) : raw) as {
      sendFailures?: unknown;
      lostDeleteBatches?: unknown;
    };
    const lost = body?.lostDeleteBatches ?? 0;
    if (!Array.isArray(body?.sendFailures ?? []) || !Number.isInteger(lost)) {
      reply.status(400);
      return {
        error:
          'expected {"sendFailures": [{"groupId", "code", "senderFault"?, "times"?}], "lostDeleteBatches": n}',
      };
    }
    failures = ((body.sendFailures ?? []) as SendFailure[]).map((f) => ({ ...f, left: f.times ?? 1 }));
    lostDeleteBatches = Number(lost);
    return { sendFailures: failures.map(({ left, ...f }) => ({ ...f, times: left })), lostDeleteBatches };
  });

  app.get(SQS_FAULTS_PATH, async () => ({
    sendFailures: failures.map(({ left, ...f }) => ({ ...f, times: left })),
    lostDeleteBatches,
  }));

  app.addHook('preHandler', async (request, reply) => {
    if (request.headers['x-amz-target'] === DELETE_BATCH && lostDeleteBatches > 0) {
      lostDeleteBatches -= 1;
      // Same entries and the same answer shape; the messages stay, visible again.
      request.headers['x-amz-target'] = 'AmazonSQS.ChangeMessageVisibilityBatch';
      const body = request.body as { Entries?: Record<string, unknown>[] };
      body.Entries = (body.Entries ?? []).map((entry) => ({ ...entry, VisibilityTimeout: 0 }));
      return;
    }
    if (request.headers['x-amz-target'] !== SEND_BATCH || failures.length === 0) return;
    const body = request.body as { Entries?: Entry[] };
    const kept: Entry[] = [];
    const failed: FailedEntry[] = [];
    for (const entry of body.Entries ?? []) {
      const failure = failures.find((f) => f.left > 0 && f.groupId === entry.MessageGroupId);
      if (!failure) {
        kept.push(entry);
        continue;
      }
      failure.left -= 1;
      failed.push({
        Id: String(entry.Id),
        Code: failure.code,
        Message: `injected by the emulator's fault switch for group ${failure.groupId}`,
        SenderFault: failure.senderFault === true,
      });
    }
    if (failed.length === 0) return;
    if (kept.length === 0) {
      // SQS answers a batch whose every entry failed with 200 too; fauxqs would refuse an empty one.
      reply.header('content-type', 'application/x-amz-json-1.0');
      return reply.send({ Successful: [], Failed: failed });
    }
    body.Entries = kept;
    injectedOf.set(request, { failed });
  });

  app.addHook('onSend', async (request, _reply, payload) => {
    const injected = injectedOf.get(request);
    if (!injected || typeof payload !== 'string') return payload;
    const answer = JSON.parse(payload) as { Successful?: unknown[]; Failed?: FailedEntry[] };
    return JSON.stringify({ ...answer, Failed: [...(answer.Failed ?? []), ...injected.failed] });
  });
}
