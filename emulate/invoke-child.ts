import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/*
 * One Lambda execution environment: a child process that loads the function's bundle from its asset
 * directory (LAMBDA_TASK_ROOT, _HANDLER as Lambda sets them) and runs one invocation at a time, as the
 * Node.js runtime does. It is compiled to plain JavaScript at the emulator's start and run by plain `node`,
 * with no loader in between, so the bundle meets the module system it meets on Lambda.
 *
 * The parent sends `{ type: 'invoke', … }` over the IPC channel and enforces the timeout by killing this
 * process; an uncaught exception or unhandled rejection ends the process, as it ends a Lambda runtime.
 */

export type InvokeMessage = {
  type: 'invoke';
  requestId: string;
  /** Epoch milliseconds at which the invocation times out (Context.getRemainingTimeInMillis counts to it). */
  deadline: number;
  traceId: string;
  event: unknown;
};

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'result'; requestId: string; payload: string }
  | {
      type: 'error';
      requestId?: string;
      errorType: string;
      errorMessage: string;
      /** The process ends after this error (init failed, or an uncaught error): its next start is cold. */
      fatal?: boolean;
    };

type Handler = (
  event: unknown,
  context: object,
  callback: (error?: unknown, result?: unknown) => void,
) => unknown;

const send = (message: ChildMessage) =>
  new Promise<void>((resolve) => {
    if (process.send) process.send(message, undefined, undefined, () => resolve());
    else resolve();
  });

let current: string | undefined;

async function loadHandler(): Promise<Handler> {
  const taskRoot = process.env.LAMBDA_TASK_ROOT ?? '.';
  const spec = process.env._HANDLER ?? 'index.handler';
  const dot = spec.lastIndexOf('.');
  const [moduleName, exportName] = [spec.slice(0, dot), spec.slice(dot + 1)];
  const file = ['.mjs', '.js', '.cjs'].map((ext) => join(taskRoot, `${moduleName}${ext}`)).find(existsSync);
  if (!file)
    throw Object.assign(new Error(`Cannot find module '${moduleName}'`), {
      name: 'Runtime.ImportModuleError',
    });
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const handler = module[exportName];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${spec} is undefined or not exported`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  return handler as Handler;
}

function contextFor(message: InvokeMessage): object {
  const env = process.env;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: env.EMULATE_FUNCTION_ARN,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: message.requestId,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
  };
}

function errorOf(error: unknown): { errorType: string; errorMessage: string; stackTrace?: string[] } {
  if (error instanceof Error) {
    return { errorType: error.name, errorMessage: error.message, stackTrace: error.stack?.split('\n') };
  }
  return { errorType: 'Error', errorMessage: String(error) };
}

/** As the Node.js runtime: the failure is logged to the function's log and reported as the result. */
async function fail(error: unknown, requestId: string | undefined, fatal = false): Promise<void> {
  const reported = errorOf(error);
  process.stderr.write(
    `${JSON.stringify({ timestamp: new Date().toISOString(), level: 'ERROR', requestId, message: reported })}\n`,
  );
  await send({
    type: 'error',
    requestId,
    errorType: reported.errorType,
    errorMessage: reported.errorMessage,
    fatal,
  });
}

async function invoke(handler: Handler, message: InvokeMessage): Promise<void> {
  current = message.requestId;
  process.env._X_AMZN_TRACE_ID = message.traceId;
  try {
    const result = await new Promise<unknown>((resolve, reject) => {
      const returned = handler(message.event, contextFor(message), (error, value) =>
        error ? reject(error) : resolve(value),
      );
      if (returned && typeof (returned as Promise<unknown>).then === 'function') {
        (returned as Promise<unknown>).then(resolve, reject);
      }
    });
    await send({ type: 'result', requestId: message.requestId, payload: JSON.stringify(result) ?? 'null' });
  } catch (error) {
    await fail(error, message.requestId);
  } finally {
    current = undefined;
  }
}

process.on('unhandledRejection', (reason) => {
  void fail(
    Object.assign(new Error(String(reason instanceof Error ? reason.message : reason)), {
      name: 'Runtime.UnhandledPromiseRejection',
    }),
    current,
    true,
  ).finally(() => process.exit(128));
});
process.on('uncaughtException', (error) => {
  void fail(error, current, true).finally(() => process.exit(129));
});

try {
  const handler = await loadHandler();
  process.on('message', (message: InvokeMessage) => {
    if (message.type === 'invoke') void invoke(handler, message);
  });
  await send({ type: 'ready' });
} catch (error) {
  await fail(error, undefined, true);
  process.exit(1);
}
