import { randomBytes } from 'node:crypto';
import { type FaultSettings, startSandbox } from './index';

/** `npm run sandbox`: the sandbox as a standalone process, configured from the environment. */

const env = process.env;

const numberFromEnv = (name: string): number | undefined => {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got "${raw}"`);
  return value;
};

/** Accepts "50" for a fixed latency or "20-80" for a uniform range. */
const latencyFromEnv = (): FaultSettings['latencyMs'] => {
  const range = /^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$/.exec(env.SANDBOX_LATENCY_MS ?? '');
  if (range) return { min: Number(range[1]), max: Number(range[2]) };
  return numberFromEnv('SANDBOX_LATENCY_MS');
};

const faultsFromEnv = (): FaultSettings => {
  const rps = numberFromEnv('SANDBOX_RATE_LIMIT_RPS');
  const faults: FaultSettings = {
    latencyMs: latencyFromEnv(),
    rateLimit: rps === undefined ? undefined : { rps },
    serverErrorRate: numberFromEnv('SANDBOX_SERVER_ERROR_RATE'),
    dropRate: numberFromEnv('SANDBOX_DROP_RATE'),
    visibilityDelayMs: numberFromEnv('SANDBOX_VISIBILITY_DELAY_MS'),
  };
  return Object.fromEntries(Object.entries(faults).filter(([, value]) => value !== undefined));
};

const main = async (): Promise<void> => {
  const sandbox = await startSandbox({
    port: numberFromEnv('SANDBOX_PORT') ?? 8788,
    host: env.SANDBOX_HOST || '127.0.0.1',
    // A generated key keeps a sandbox left running on a shared machine from answering anyone who guesses the default.
    apiKey: env.SANDBOX_API_KEY || `sandbox-${randomBytes(12).toString('hex')}`,
    faults: faultsFromEnv(),
  });
  console.log(`TrueFoundry users API sandbox listening on ${sandbox.url} with API key ${sandbox.apiKey}`);

  const shutdown = (): void => {
    sandbox.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('Sandbox did not close cleanly:', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
};

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
