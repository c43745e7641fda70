import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import type { FunctionDefinition } from './function-definitions';
import type { ChildMessage, InvokeMessage } from './invoke-child';

type Outcome = { ok: true; payload: unknown } | { ok: false; errorType: string; errorMessage: string };

export type InvokeResult = Outcome & { requestId: string; durationMs: number };

export type Emit = (level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR', message: string, fields?: object) => void;

/** Lambda's limit on a synchronous response, and on a request (6 MiB and 100 bytes, 6 MiB). */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;
export const MAX_REQUEST_BYTES = 6 * 1024 * 1024;

type Instance = {
  child: ChildProcess;
  ready: Promise<ChildMessage>;
  streamName: string;
  /** Set until the first invocation has reported it: how long the bundle took to load. */
  initMs?: number;
};

/** Lambda gives init 10 s; past that it runs init again within the first invocation and its timeout. */
const INIT_LIMIT_MS = 10_000;

/** What every execution environment gets besides its function's own variables. */
export type FunctionRuntime = {
  childEntry: string;
  /** Under the function's variables: region, credentials, endpoints. */
  environment: Record<string, string>;
  /** Over the function's variables (the emulator's LOG_LEVEL). */
  overrides: Record<string, string>;
  emit: Emit;
};

/**
 * One function's execution environments: each a child process running one invocation at a time, kept warm
 * for the next one, as Lambda does. A timeout kills the process (the next invocation starts cold), and so
 * does a crash; either is the invocation's error, exactly as Lambda reports it.
 */
export class LambdaFunction {
  readonly definition: FunctionDefinition;
  private readonly idle: Instance[] = [];
  private readonly busy = new Set<Instance>();
  private readonly waiting: (() => void)[] = [];
  private closed = false;
  /** The emulator's fault switch: every invocation's environment dies before the handler runs. */
  crashing = false;

  constructor(
    definition: FunctionDefinition,
    private readonly runtime: FunctionRuntime,
    private readonly maxInstances = 10,
  ) {
    this.definition = definition;
  }

  get instances(): number {
    return this.idle.length + this.busy.size;
  }

  async invoke(event: unknown): Promise<InvokeResult> {
    const requestId = randomUUID();
    const started = Date.now();
    const done = (result: Outcome): InvokeResult => ({
      ...result,
      requestId,
      durationMs: Date.now() - started,
    });
    if (this.closed)
      return done({ ok: false, errorType: 'ServiceException', errorMessage: 'the emulator is stopping' });
    const instance = await this.acquire();
    const ready = await instance.ready;
    if (ready.type === 'error') {
      this.discard(instance);
      return done({ ok: false, errorType: ready.errorType, errorMessage: ready.errorMessage });
    }
    const timeoutMs = this.definition.timeoutSeconds * 1000;
    const message: InvokeMessage = {
      type: 'invoke',
      requestId,
      deadline: Date.now() + timeoutMs,
      traceId: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`,
      event,
    };
    let dying = false;
    const result = await new Promise<Outcome>((resolve) => {
      const finish = (value: Outcome) => {
        clearTimeout(timer);
        instance.child.off('message', onMessage);
        instance.child.off('exit', onExit);
        resolve(value);
      };
      const onMessage = (reply: ChildMessage) => {
        if (reply.type === 'result' && reply.requestId === requestId) {
          if (Buffer.byteLength(reply.payload) > MAX_RESPONSE_BYTES) {
            finish({
              ok: false,
              errorType: 'Function.ResponseSizeTooLarge',
              errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
            });
          } else finish({ ok: true, payload: JSON.parse(reply.payload) as unknown });
        } else if (reply.type === 'error' && reply.requestId === requestId) {
          if (reply.fatal) dying = true;
          finish({ ok: false, errorType: reply.errorType, errorMessage: reply.errorMessage });
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        finish({
          ok: false,
          errorType: 'Runtime.ExitError',
          errorMessage: `RequestId: ${requestId} Error: Runtime exited ${signal ? `with signal: ${signal}` : `with error: exit status ${code}`}`,
        });
      const timer = setTimeout(() => {
        // Lambda's own words in the function's log; the environment is torn down, its next start is cold.
        this.runtime.emit(
          'ERROR',
          `Task timed out after ${this.definition.timeoutSeconds.toFixed(2)} seconds`,
          {
            function: this.definition.name,
            requestId,
          },
        );
        instance.child.kill('SIGKILL');
        finish({
          ok: false,
          errorType: 'Sandbox.Timedout',
          errorMessage: `RequestId: ${requestId} Error: Task timed out after ${this.definition.timeoutSeconds.toFixed(2)} seconds`,
        });
      }, timeoutMs);
      instance.child.on('message', onMessage);
      instance.child.once('exit', onExit);
      if (this.crashing) {
        instance.child.kill('SIGKILL');
        return;
      }
      instance.child.send(message, (error) => {
        if (error) onExit(instance.child.exitCode, instance.child.signalCode);
      });
    });
    // A handler's error leaves the environment warm; a timeout or a crash ends it.
    const alive = !dying && instance.child.exitCode === null && instance.child.signalCode === null;
    if (alive && (result.ok || result.errorType !== 'Sandbox.Timedout')) this.release(instance);
    else this.discard(instance);
    const finished = done(result);
    this.runtime.emit('DEBUG', 'REPORT', {
      function: this.definition.name,
      requestId,
      durationMs: finished.durationMs,
      ...(instance.initMs === undefined ? {} : { initDurationMs: instance.initMs }),
      ...(result.ok ? {} : { errorType: result.errorType }),
    });
    instance.initMs = undefined;
    return finished;
  }

  /** Stops taking invocations; waits up to `graceMs` for those in progress, then kills every environment. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    for (const wake of this.waiting.splice(0)) wake();
    const deadline = Date.now() + graceMs;
    while (this.busy.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const instance of [...this.idle, ...this.busy]) instance.child.kill('SIGKILL');
    this.idle.length = 0;
    this.busy.clear();
  }

  private async acquire(): Promise<Instance> {
    for (;;) {
      const warm = this.idle.pop();
      // An environment may have ended while idle (an error outside any invocation): it is gone.
      if (warm && (warm.child.exitCode !== null || warm.child.signalCode !== null)) continue;
      if (warm) {
        this.busy.add(warm);
        return warm;
      }
      if (this.instances < this.maxInstances || this.closed) {
        const cold = this.start();
        this.busy.add(cold);
        return cold;
      }
      await new Promise<void>((wake) => this.waiting.push(wake));
    }
  }

  private release(instance: Instance): void {
    this.busy.delete(instance);
    if (this.closed) instance.child.kill('SIGKILL');
    else this.idle.push(instance);
    this.waiting.shift()?.();
  }

  private discard(instance: Instance): void {
    this.busy.delete(instance);
    if (instance.child.exitCode === null && instance.child.signalCode === null)
      instance.child.kill('SIGKILL');
    this.waiting.shift()?.();
  }

  private start(): Instance {
    const def = this.definition;
    const now = new Date();
    const streamName = `${now.toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomBytes(16).toString('hex')}`;
    const child = fork(this.runtime.childEntry, [], {
      cwd: def.codeDir,
      // Roughly the heap Lambda's Node.js runtime allows for the function's memory.
      execArgv: [`--max-old-space-size=${Math.max(64, Math.floor(def.memoryMb * 0.85))}`],
      env: {
        ...this.runtime.environment,
        ...def.environment,
        ...this.runtime.overrides,
        AWS_LAMBDA_FUNCTION_NAME: def.name,
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(def.memoryMb),
        AWS_LAMBDA_LOG_GROUP_NAME: def.logGroup,
        AWS_LAMBDA_LOG_STREAM_NAME: streamName,
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
        EMULATE_FUNCTION_ARN: def.arn,
        LAMBDA_TASK_ROOT: def.codeDir,
        _HANDLER: def.handler,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // A send to an environment that has just ended reports through its callback; nothing else to do here.
    child.on('error', () => {});
    const timeoutMs = INIT_LIMIT_MS + def.timeoutSeconds * 1000;
    const startedAt = Date.now();
    const instance: Instance = { child, ready: Promise.resolve({ type: 'ready' }), streamName };
    instance.ready = new Promise<ChildMessage>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve({
          type: 'error',
          errorType: 'Runtime.InitError',
          errorMessage: `init did not finish within ${timeoutMs} ms`,
        });
      }, timeoutMs);
      const settle = (message: ChildMessage) => {
        clearTimeout(timer);
        instance.initMs ??= Date.now() - startedAt;
        resolve(message);
      };
      child.once('message', (message: ChildMessage) => settle(message));
      child.once('exit', (code) =>
        settle({
          type: 'error',
          errorType: 'Runtime.ExitError',
          errorMessage: `init ended with exit status ${code}`,
        }),
      );
    });
    this.runtime.emit('DEBUG', 'cold start', { function: def.name, logStream: streamName });
    return instance;
  }
}
