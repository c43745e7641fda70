import type { AddressInfo } from 'node:net';
import {
  type AttributeValue,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { createTableInput } from '../../functions/core/adapters/dynamodb';

export type ClientOptions = {
  /**
   * dynalite predates `ReturnValuesOnConditionCheckFailure` and drops it. With this set, the client fills
   * in the failed item on a ConditionalCheckFailedException as DynamoDB does, so the adapter's path that
   * uses it instead of reading again is exercised too.
   */
  returnOldItemOnConditionFailure?: boolean;
  /** Called with the name of every command the client sends, e.g. `GetItemCommand`. */
  onCommand?: (commandName: string) => void;
};

export type LocalDynamoDb = {
  endpoint: string;
  client: DynamoDBDocumentClient;
  /** Another client on the same endpoint, e.g. for a second store racing the first. */
  createClient(options?: ClientOptions): DynamoDBDocumentClient;
  /** Creates a state table (a fresh unique name unless given) and returns its name. */
  createTable(name?: string): Promise<string>;
  deleteTable(name: string): Promise<void>;
  close(): Promise<void>;
};

/** The part of a PutItem, UpdateItem or DeleteItem input the ALL_OLD emulation reads. */
type WriteInput = {
  TableName?: string;
  Key?: Record<string, AttributeValue>;
  Item?: Record<string, AttributeValue>;
  ReturnValuesOnConditionCheckFailure?: string;
};

let tables = 0;

/** dynalite in this process on a free local port, spoken to over the real AWS SDK wire protocol. */
export async function startDynalite(): Promise<LocalDynamoDb> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const rawClients: DynamoDBClient[] = [];

  const newRawClient = () => {
    const raw = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    rawClients.push(raw);
    return raw;
  };
  const plain = newRawClient();

  const createClient = (options: ClientOptions = {}) => {
    const raw = newRawClient();
    if (options.onCommand) {
      const onCommand = options.onCommand;
      raw.middlewareStack.add(
        (next, context) => (args) => {
          onCommand(String(context.commandName));
          return next(args);
        },
        { step: 'initialize', name: 'recordCommandNames' },
      );
    }
    if (options.returnOldItemOnConditionFailure) {
      raw.middlewareStack.add(
        (next) => async (args) => {
          try {
            return await next(args);
          } catch (error) {
            const input = args.input as WriteInput;
            const lost = error instanceof Error && error.name === 'ConditionalCheckFailedException';
            if (!lost || input.ReturnValuesOnConditionCheckFailure !== 'ALL_OLD') throw error;
            const key = input.Key ?? { pk: input.Item?.pk ?? { S: '' }, sk: input.Item?.sk ?? { S: '' } };
            const old = await plain.send(
              new GetItemCommand({ TableName: input.TableName, Key: key, ConsistentRead: true }),
            );
            // As DynamoDB: the item the condition failed on, none when there was none.
            Object.assign(error, { Item: old.Item });
            throw error;
          }
        },
        // After lib-dynamodb has marshalled the input, so Key and Item are attribute values as on the wire.
        { step: 'build', name: 'returnOldItemOnConditionFailure' },
      );
    }
    return DynamoDBDocumentClient.from(raw);
  };

  return {
    endpoint,
    client: createClient(),
    createClient,
    async createTable(name = `state-${++tables}`) {
      await plain.send(new CreateTableCommand(createTableInput(name)));
      // dynalite answers CREATING and turns the table ACTIVE on a timer; until then every item call fails
      // with ResourceNotFoundException. Polled here rather than with the SDK waiter, whose least delay is 1 s.
      for (;;) {
        const { Table } = await plain.send(new DescribeTableCommand({ TableName: name }));
        if (Table?.TableStatus === 'ACTIVE') return name;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async deleteTable(name) {
      await plain.send(new DeleteTableCommand({ TableName: name }));
    },
    async close() {
      for (const raw of rawClients) raw.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
