import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/*
 * Counts what the Lambda handlers ask of AWS while they run in this process (bench/aws-usage.ts): DynamoDB
 * requests with the capacity units DynamoDB would bill (asked of dynalite with ReturnConsumedCapacity, which
 * the handlers do not set), writes that move the keys-only status index, and the bytes the handlers log.
 * SQS and Secrets Manager are counted from their mocks by the caller.
 */

export type DynamoUsage = {
  requests: Record<string, number>;
  readUnits: number;
  writeUnits: number;
  /** Write units of the keys-only `byStatus` index, which DynamoDB bills beside the table's (indexUnitsOf). */
  indexWriteUnits: number;
  /** Conditional writes refused: DynamoDB still bills them, at least one write unit each. */
  conditionFailures: number;
};

export type LogUsage = { bytes: number; lines: number };

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);

export const emptyDynamoUsage = (): DynamoUsage => ({
  requests: {},
  readUnits: 0,
  writeUnits: 0,
  indexWriteUnits: 0,
  conditionFailures: 0,
});

type CommandInput = {
  Key?: Record<string, unknown>;
  Item?: Record<string, unknown>;
  UpdateExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ReturnConsumedCapacity?: string;
};

const INDEX_KEYS = ['status', 'updatedAt'];

/**
 * Index write units of a write: the `byStatus` index is keyed on an event item's `status` and `updatedAt`, so a
 * put of an event adds its entry (one unit) and an update that sets either key moves it (a delete and a put:
 * two units). Only event items (sk EVENT) are in it; the index projects keys only, so each entry is one unit.
 */
function indexUnitsOf(command: string, input: CommandInput): number {
  if (command === 'PutItemCommand')
    return input.Item?.sk === 'EVENT' && input.Item.status !== undefined ? 1 : 0;
  if (input.Key?.sk !== 'EVENT') return 0;
  if (command === 'DeleteItemCommand') return 1;
  if (command !== 'UpdateItemCommand' || !input.UpdateExpression) return 0;
  const placeholders = Object.entries(input.ExpressionAttributeNames ?? {})
    .filter(([, attribute]) => INDEX_KEYS.includes(attribute))
    .map(([placeholder]) => placeholder.replace(/[#$]/g, '\\$&'));
  const setsKey = placeholders.some((name) => new RegExp(`${name}\\s*=`).test(input.UpdateExpression ?? ''));
  return setsKey ? 2 : 0;
}

function unitsOf(consumed: unknown): number {
  const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  return list.reduce((sum: number, entry: { CapacityUnits?: number }) => sum + (entry.CapacityUnits ?? 0), 0);
}

export class DynamoMeter {
  private usage = emptyDynamoUsage();

  /** Adds the counting middleware to the handlers' shared client (functions/commons/aws-clients.ts). */
  attach(client: DynamoDBDocumentClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = String(context.commandName);
        const input = args.input as CommandInput;
        input.ReturnConsumedCapacity = 'TOTAL';
        const usage = this.usage;
        usage.requests[command] = (usage.requests[command] ?? 0) + 1;
        try {
          const result = await next(args);
          const units = unitsOf((result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity);
          if (WRITES.has(command)) {
            usage.writeUnits += units;
            usage.indexWriteUnits += indexUnitsOf(command, input);
          } else {
            usage.readUnits += units;
          }
          return result;
        } catch (error) {
          if ((error as Error).name === 'ConditionalCheckFailedException') {
            usage.conditionFailures += 1;
            usage.writeUnits += 1;
          }
          throw error;
        }
      },
      { step: 'initialize', name: 'benchDynamoMeter' },
    );
  }

  /** What was counted since the last take, and a fresh count from now. */
  take(): DynamoUsage {
    const taken = this.usage;
    this.usage = emptyDynamoUsage();
    return taken;
  }
}

/**
 * Counts what the process writes to stdout and stderr (the handlers' JSON log lines and EMF metrics, which
 * CloudWatch Logs would ingest) instead of printing it, while `capturing`; `say` still prints.
 */
export class LogMeter {
  private usage: LogUsage = { bytes: 0, lines: 0 };
  private readonly originalOut = process.stdout.write.bind(process.stdout);
  private readonly originalErr = process.stderr.write.bind(process.stderr);
  capturing = false;

  install(): void {
    const count =
      (original: typeof process.stdout.write) =>
      (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
        if (!this.capturing)
          return (original as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        this.usage.bytes += Buffer.byteLength(text);
        this.usage.lines += text.split('\n').filter((line) => line.trim() !== '').length;
        const callback = rest.find((r): r is () => void => typeof r === 'function');
        callback?.();
        return true;
      };
    process.stdout.write = count(this.originalOut) as typeof process.stdout.write;
    process.stderr.write = count(this.originalErr) as typeof process.stderr.write;
  }

  uninstall(): void {
    process.stdout.write = this.originalOut;
    process.stderr.write = this.originalErr;
  }

  say(text: string): void {
    this.originalErr(`${text}\n`);
  }

  take(): LogUsage {
    const taken = this.usage;
    this.usage = { bytes: 0, lines: 0 };
    return taken;
  }
}
