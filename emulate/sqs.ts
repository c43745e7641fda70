import type { AddressInfo } from 'node:net';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';
import type { EmulatedStack } from './cloudformation';
import { addSqsFaultSwitch } from './sqs-faults';

/** The account fauxqs writes into every queue ARN and URL. */
export const FAUXQS_ACCOUNT = '000000000000';

/** The few members of fauxqs's SqsStore the emulator touches. */
type SqsStore = { host: string | undefined; shutdown(): void };

export type EmulatedSqs = {
  /** The endpoint, http://127.0.0.1:<port>; every queue URL starts with it. */
  origin: string;
  /** Credentials are not checked; the region is taken from each request's signature, as AWS does. */
  client: SQSClient;
  close(): Promise<void>;
};

/**
 * SQS as fauxqs (FIFO groups, visibility, redrive to a dead-letter queue), on a free local port.
 *
 * fauxqs names its queues `http://sqs.<region>.localhost:<port>/…`, a host that does not resolve here; with
 * its store's host cleared it names them after the host the request came to, `http://127.0.0.1:<port>/…`,
 * which is the emulated stack's queue URL. The store is not exported, hence the import by file.
 */
export async function startSqs(region: string): Promise<EmulatedSqs> {
  const storeModule = new URL('./sqs/sqsStore.js', import.meta.resolve('fauxqs')).href;
  const { SqsStore } = (await import(storeModule)) as { SqsStore: new () => SqsStore };
  const sqsStore = new SqsStore();
  sqsStore.host = undefined;
  // The stores option is typed as all three; fauxqs makes the SNS and S3 ones itself when absent.
  const app = buildApp({ logger: false, defaultRegion: region, stores: { sqsStore } as never });
  addSqsFaultSwitch(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const client = new SQSClient({
    region,
    endpoint: origin,
    credentials: { accessKeyId: 'emulate', secretAccessKey: 'emulate' },
  });
  return {
    origin,
    client,
    close: async () => {
      client.destroy();
      sqsStore.shutdown();
      await app.close();
    },
  };
}

/**
 * Creates the template's queues with the template's attributes (FIFO, deduplication, visibility timeout,
 * retention, redrive policy), dead-letter queues first. Returns each queue's URL by logical id.
 */
export async function createQueues(sqs: EmulatedSqs, stack: EmulatedStack): Promise<Map<string, string>> {
  const queues = stack.resourcesOfType('AWS::SQS::Queue');
  // A queue that names a dead-letter target comes after the queues it does not.
  queues.sort(([, a], [, b]) => Number('RedrivePolicy' in a) - Number('RedrivePolicy' in b));
  const urls = new Map<string, string>();
  for (const [logicalId, properties] of queues) {
    const url = String(stack.ref(logicalId));
    const name = String(stack.getAtt(logicalId, 'QueueName'));
    const answer = await sqs.client.send(
      new CreateQueueCommand({ QueueName: name, Attributes: queueAttributes(stack, properties) }),
    );
    if (answer.QueueUrl !== url) {
      throw new Error(`fauxqs named queue ${name} ${answer.QueueUrl}, the emulated stack expected ${url}`);
    }
    urls.set(logicalId, url);
  }
  return urls;
}

/** AWS::SQS::Queue properties → CreateQueue attributes (all strings; the redrive policy as JSON). */
function queueAttributes(stack: EmulatedStack, properties: Record<string, unknown>): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(stack.resolve(properties) as Record<string, unknown>)) {
    if (name === 'QueueName' || name === 'Tags' || value === undefined) continue;
    attributes[name] = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return attributes;
}
