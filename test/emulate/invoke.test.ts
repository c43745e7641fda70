import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileChildEntry, type FunctionDefinition } from '../../emulate/function-definitions';
import { LambdaFunction } from '../../emulate/invoke';

/*
 * The emulated Lambda runtime with a stand-in bundle: a real Context, one invocation per environment, warm
 * reuse, and a timeout or a crash that ends the environment (the next invocation starts cold).
 */

// An ES module like the synthesized bundles: `index.mjs` exporting `handler`; it does what the event says.
const BUNDLE = `
const startedAt = Date.now();
export const handler = async (event, context) => {
  const seen = {
    pid: process.pid,
    startedAt,
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitInMB: context.memoryLimitInMB,
    awsRequestId: context.awsRequestId,
    logGroupName: context.logGroupName,
    remaining: context.getRemainingTimeInMillis(),
    callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
    tableName: process.env.TABLE_NAME,
    traceId: process.env._X_AMZN_TRACE_ID,
  };
  if (event.action === 'sleep') await new Promise((resolve) => setTimeout(resolve, event.ms));
  if (event.action === 'throw') throw new TypeError('bad input');
  if (event.action === 'crash') process.exit(3);
  if (event.action === 'reject') { Promise.reject(new Error('forgotten')); await new Promise((r) => setTimeout(r, 1000)); }
  return seen;
};
`;

let dir: string;
let child: ReturnType<typeof compileChildEntry>;
let fn: LambdaFunction;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hrp-invoke-'));
  writeFileSync(join(dir, 'index.mjs'), BUNDLE);
  child = compileChildEntry();
  const definition: FunctionDefinition = {
    logicalId: 'Probe',
    name: 'HrProvisioning-test-Probe',
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:HrProvisioning-test-Probe',
    handler: 'index.handler',
    codeDir: dir,
    timeoutSeconds: 2,
    memoryMb: 256,
    environment: { TABLE_NAME: 'state' },
    logGroup: '/aws/lambda/probe',
  };
  fn = new LambdaFunction(
    definition,
    { childEntry: child.path, environment: { PATH: process.env.PATH ?? '' }, overrides: {}, emit: () => {} },
    2,
  );
});

afterAll(async () => {
  await fn?.close(0);
  child?.remove();
  rmSync(dir, { recursive: true, force: true });
});

type Seen = Record<string, unknown> & { pid: number; remaining: number };

async function seen(event: object): Promise<Seen> {
  const result = await fn.invoke(event);
  if (!result.ok) throw new Error(`${result.errorType}: ${result.errorMessage}`);
  return result.payload as Seen;
}

describe('the emulated Lambda runtime', () => {
  it('hands the handler a Context like Lambda’s and the function’s environment', async () => {
    const sent = Date.now();
    const first = await seen({});
    const took = Date.now() - sent;
    expect(first).toMatchObject({
      functionName: 'HrProvisioning-test-Probe',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:HrProvisioning-test-Probe',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/probe',
      callbackWaitsForEmptyEventLoop: true,
      tableName: 'state',
      awsRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      traceId: expect.stringMatching(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/),
    });
    // The 2 s budget counted from the invocation: no more is gone than the whole round trip took.
    expect(first.remaining).toBeGreaterThanOrEqual(2_000 - took);
    expect(first.remaining).toBeLessThanOrEqual(2_000);
  });

  it('keeps an environment warm between invocations, and a handled error does not end it', async () => {
    const a = await seen({});
    const failed = await fn.invoke({ action: 'throw' });
    expect(failed).toMatchObject({ ok: false, errorType: 'TypeError', errorMessage: 'bad input' });
    const b = await seen({});
    expect(b.pid).toBe(a.pid);
  });

  it('kills an invocation past its timeout; the next one starts cold', async () => {
    const before = await seen({});
    // A handler that would sleep past the test's own timeout: only the kill at 2 s ends this invocation.
    const late = await fn.invoke({ action: 'sleep', ms: 10 * 60_000 });
    expect(late).toMatchObject({ ok: false, errorType: 'Sandbox.Timedout' });
    if (!late.ok) expect(late.errorMessage).toContain('Task timed out after 2.00 seconds');
    const after = await seen({});
    expect(after.pid).not.toBe(before.pid);
  });

  it('reports a crash (exit) and an unhandled rejection as runtime errors, and starts afresh', async () => {
    const crashed = await fn.invoke({ action: 'crash' });
    expect(crashed).toMatchObject({ ok: false, errorType: 'Runtime.ExitError' });
    const rejected = await fn.invoke({ action: 'reject' });
    expect(rejected).toMatchObject({ ok: false, errorType: 'Runtime.UnhandledPromiseRejection' });
    expect((await seen({})).functionName).toBe('HrProvisioning-test-Probe');
  });

  it('runs at most its concurrency limit of environments, one invocation each', async () => {
    const results = await Promise.all([1, 2, 3].map(() => seen({ action: 'sleep', ms: 300 })));
    expect(new Set(results.map((r) => r.pid)).size).toBeLessThanOrEqual(2);
    expect(fn.instances).toBeLessThanOrEqual(2);
  });
});
