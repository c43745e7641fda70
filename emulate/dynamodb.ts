import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { EmulatedStack } from './cloudformation';

/** DynamoDB deletes expired items within days; the emulator sweeps every ten minutes. */
const TTL_SWEEP_MS = 10 * 60_000;

export type EmulatedTable = { name: string; ttlAttribute: string | undefined };

export type EmulatedDynamoDb = {
  endpoint: string;
  client: DynamoDBClient;
  /** The tables created so far, with their TTL attributes. */
  tables: EmulatedTable[];
  /** Deletes the items whose TTL attribute lies in the past, as DynamoDB's TTL does (dynalite has none). */
  sweepExpired(): Promise<number>;
  close(): Promise<void>;
};

/**
 * DynamoDB as dynalite on a free local port, spoken to over the real wire protocol. With a `path` its
 * tables live in LevelDB there and survive restarts; without, in memory.
 */
export async function startDynamoDb(region: string, path: string | undefined): Promise<EmulatedDynamoDb> {
  if (path) mkdirSync(path, { recursive: true });
  const server: Server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(path ? { path } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    region,
    endpoint,
    credentials: { accessKeyId: 'emulate', secretAccessKey: 'emulate' },
  });
  const tables: EmulatedTable[] = [];
  const sweepExpired = async () => {
    let deleted = 0;
    for (const table of tables) deleted += await sweepTable(client, table);
    return deleted;
  };
  const timer = setInterval(() => void sweepExpired().catch(() => {}), TTL_SWEEP_MS);
  timer.unref();
  return {
    endpoint,
    client,
    sweepExpired,
    tables,
    close: async () => {
      clearInterval(timer);
      client.destroy();
      server.closeAllConnections();
      // dynalite closes its LevelDB when the server closes, so what was written is on disk.
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Creates the template's tables (key schema, attribute definitions, global secondary indexes, billing mode)
 * unless they exist from an earlier start with the same keys, and waits until each is ACTIVE.
 */
export async function createTables(
  dynamodb: EmulatedDynamoDb,
  stack: EmulatedStack,
): Promise<EmulatedTable[]> {
  const created: EmulatedTable[] = [];
  for (const [logicalId, properties] of stack.resourcesOfType('AWS::DynamoDB::Table')) {
    const props = stack.resolve(properties) as Record<string, unknown>;
    const name = String(stack.ref(logicalId));
    const input: CreateTableCommandInput = {
      TableName: name,
      KeySchema: props.KeySchema as CreateTableCommandInput['KeySchema'],
      AttributeDefinitions: props.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
      BillingMode: (props.BillingMode as CreateTableCommandInput['BillingMode']) ?? 'PROVISIONED',
      ...(props.GlobalSecondaryIndexes
        ? {
            GlobalSecondaryIndexes:
              props.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'],
          }
        : {}),
      ...(props.ProvisionedThroughput
        ? {
            ProvisionedThroughput:
              props.ProvisionedThroughput as CreateTableCommandInput['ProvisionedThroughput'],
          }
        : {}),
    };
    const existing = await describe(dynamodb.client, name);
    if (existing === undefined) await dynamodb.client.send(new CreateTableCommand(input));
    else assertSameKeys(name, existing, input);
    await waitUntilActive(dynamodb.client, name);
    const ttl = props.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
    created.push({ name, ttlAttribute: ttl?.Enabled ? ttl.AttributeName : undefined });
  }
  dynamodb.tables.push(...created);
  return created;
}

type TableDescription = NonNullable<Awaited<ReturnType<typeof describe>>>;

async function describe(client: DynamoDBClient, name: string) {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

// dynalite answers CREATING and turns the table ACTIVE on a timer; item calls fail until then.
async function waitUntilActive(client: DynamoDBClient, name: string): Promise<void> {
  while ((await describe(client, name))?.TableStatus !== 'ACTIVE') {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A table kept from an earlier start must have the keys and indexes the template now declares. */
function assertSameKeys(name: string, existing: TableDescription, wanted: CreateTableCommandInput): void {
  const shape = (keys: unknown, indexes: { IndexName?: string; KeySchema?: unknown }[] | undefined) =>
    JSON.stringify({
      keys,
      indexes: (indexes ?? []).map((i) => [i.IndexName, i.KeySchema]).sort(),
    });
  const have = shape(existing.KeySchema, existing.GlobalSecondaryIndexes);
  const want = shape(wanted.KeySchema, wanted.GlobalSecondaryIndexes);
  if (have !== want) {
    throw new Error(
      `the table ${name} kept in DATA_DIR has other keys or indexes than the template declares (${have} vs ${want}): delete its folder to start afresh`,
    );
  }
}

async function sweepTable(client: DynamoDBClient, table: EmulatedTable): Promise<number> {
  if (!table.ttlAttribute) return 0;
  const now = Math.floor(Date.now() / 1000);
  let deleted = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: table.name,
        FilterExpression: '#ttl < :now',
        ExpressionAttributeNames: { '#ttl': table.ttlAttribute },
        ExpressionAttributeValues: { ':now': { N: String(now) } },
        ...(start ? { ExclusiveStartKey: start as never } : {}),
      }),
    );
    const keyNames = ((await describe(client, table.name))?.KeySchema ?? []).map(
      (k) => k.AttributeName ?? '',
    );
    for (const item of page.Items ?? []) {
      const key = Object.fromEntries(keyNames.map((n) => [n, item[n]]));
      await client.send(new DeleteItemCommand({ TableName: table.name, Key: key as never }));
      deleted++;
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return deleted;
}
