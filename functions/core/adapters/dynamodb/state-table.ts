import type { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DeleteCommandInput,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { TableKey } from './table-schema';

export type Item = Record<string, unknown>;

/**
 * A DynamoDB call failed for a reason other than a condition (throttling past the SDK's retries, a network
 * error, a missing table or permission). The engine treats any such error as transient and retries the event.
 */
export class StateStoreError extends Error {
  override readonly name = 'StateStoreError';
}

/**
 * A conditional write either happened, or lost to the item as it stood (undefined: there is no item, or the
 * caller said it had no use for it).
 */
export type ConditionalWriteResult =
  | { written: true; attributes: Item | undefined }
  | { written: false; current: Item | undefined };

/** What to do after losing a condition: fetch the item that won, or not when the loss says all there is. */
export type OnConditionLost = 'fetch' | 'ignore';

type WithoutTable<T> = Omit<T, 'TableName' | 'ReturnValuesOnConditionCheckFailure'>;

/** The state table: consistent reads, and conditional writes that report what they lost to. */
export class StateTable {
  constructor(
    readonly client: DynamoDBDocumentClient,
    readonly name: string,
  ) {}

  /** Strongly consistent: the state machine reads what the last conditional write left. */
  async get(key: TableKey): Promise<Item | undefined> {
    const output = await this.call(`GetItem ${keyText(key)}`, () =>
      this.client.send(new GetCommand({ TableName: this.name, Key: key, ConsistentRead: true })),
    );
    return output.Item;
  }

  put(input: WithoutTable<PutCommandInput> & { Item: TableKey & Item }, onLost: OnConditionLost = 'fetch') {
    const key = { pk: input.Item.pk, sk: input.Item.sk };
    return this.conditionally(`PutItem ${keyText(key)}`, key, onLost, () =>
      this.client.send(new PutCommand({ ...input, ...this.target(onLost) })),
    );
  }

  update(input: WithoutTable<UpdateCommandInput> & { Key: TableKey }, onLost: OnConditionLost = 'fetch') {
    return this.conditionally(`UpdateItem ${keyText(input.Key)}`, input.Key, onLost, () =>
      this.client.send(new UpdateCommand({ ...input, ...this.target(onLost) })),
    );
  }

  delete(input: WithoutTable<DeleteCommandInput> & { Key: TableKey }, onLost: OnConditionLost = 'fetch') {
    return this.conditionally(`DeleteItem ${keyText(input.Key)}`, input.Key, onLost, () =>
      this.client.send(new DeleteCommand({ ...input, ...this.target(onLost) })),
    );
  }

  /** Runs a call, turning any DynamoDB error into a StateStoreError that names the operation. */
  async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw storeError(operation, error);
    }
  }

  private target(onLost: OnConditionLost) {
    return onLost === 'fetch'
      ? { TableName: this.name, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const }
      : { TableName: this.name };
  }

  private async conditionally(
    operation: string,
    key: TableKey,
    onLost: OnConditionLost,
    send: () => Promise<{ Attributes?: Item }>,
  ): Promise<ConditionalWriteResult> {
    try {
      const output = await send();
      return { written: true, attributes: output.Attributes };
    } catch (error) {
      if (!isConditionFailure(error)) throw storeError(operation, error);
      if (onLost === 'ignore') return { written: false, current: undefined };
      // DynamoDB hands back the item the condition saw, which saves a read; lib-dynamodb leaves it marshalled.
      // Without it (the item was absent, or an emulator such as dynalite ignores the option) read it now.
      return { written: false, current: error.Item ? unmarshall(error.Item) : await this.get(key) };
    }
  }
}

function isConditionFailure(error: unknown): error is ConditionalCheckFailedException {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

function storeError(operation: string, cause: unknown): StateStoreError {
  const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return new StateStoreError(`DynamoDB ${operation} failed: ${reason}`, { cause });
}

const keyText = (key: TableKey) => `${key.pk} ${key.sk}`;
