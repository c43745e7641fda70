import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { LAMBDA_NODE_OPTIONS } from '../lib/service-function';

/*
 * Module init as a cold start pays it: a fresh Node process imports the module (Node compiles and runs its top
 * level), nothing is invoked. Timed inside the child, around the import alone, so that Node's own start-up
 * (the same for any module) stays out; an empty module's import is the floor.
 */

const run = promisify(execFile);

/**
 * What Lambda's environment holds at init, as far as the bundles read it: the variables the handlers validate
 * at cold start (values that are never called), the execution role's credentials, and AWS_EXECUTION_ENV, by
 * which Powertools Tracer knows it runs on Lambda and instruments the process (off elsewhere).
 */
export const LAMBDA_INIT_ENV: Record<string, string> = {
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  AWS_LAMBDA_FUNCTION_NAME: 'cold-start-bench',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  AWS_REGION: 'eu-west-1',
  AWS_DEFAULT_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'ASIACOLDSTARTEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'cold-start',
  AWS_SESSION_TOKEN: 'cold-start',
  AWS_LAMBDA_LOG_FORMAT: 'JSON',
  AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
  // Lambda runs nodejs22.x; this machine may run another Node, which the SDK would warn about.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
  POWERTOOLS_SERVICE_NAME: 'cold-start-bench',
  POWERTOOLS_METRICS_NAMESPACE: 'HrProvisioning',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  TABLE_NAME: 'table',
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/events.fifo',
  DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq.fifo',
  INGEST_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ingest-AbCdEf',
  TFY_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tfy-AbCdEf',
};

/** Milliseconds one fresh Node process takes to import `file`. */
export async function importMs(file: string, env: Record<string, string> = LAMBDA_INIT_ENV): Promise<number> {
  const script = [
    'const started = performance.now();',
    `await import(${JSON.stringify(pathToFileURL(file).href)});`,
    'process.stdout.write(String(performance.now() - started));',
  ].join(' ');
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 60_000,
  });
  const ms = Number(stdout.trim().split('\n').at(-1));
  if (!Number.isFinite(ms)) throw new Error(`importing ${file} printed no time: ${stdout}`);
  return ms;
}

/** A module to time, and the environment its processes get (default: LAMBDA_INIT_ENV). */
export type InitSubject = { file: string; env?: Record<string, string> };

/**
 * `runs` imports of each subject, each in a fresh process, taken in rounds (every subject once per round) so
 * that whatever else the machine does weighs on each alike. The times per subject, in the order taken.
 */
export async function importTimes(
  subjects: Record<string, InitSubject>,
  runs: number,
): Promise<Map<string, number[]>> {
  const times = new Map<string, number[]>(Object.keys(subjects).map((name) => [name, []]));
  for (let round = 0; round < runs; round++) {
    for (const [name, { file, env }] of Object.entries(subjects)) {
      times.get(name)?.push(await importMs(file, env));
    }
  }
  return times;
}

/** The `q` quantile (0…1) of `values`, by the nearest rank. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** The middle value; with an even count, the mean of the two middle ones. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
