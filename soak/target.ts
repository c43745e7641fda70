import type { Sandbox } from '../sandbox';
import {
  newDataDir,
  type RuntimeProcess,
  removeDataDir,
  startRuntimeProcess,
} from '../test/support/runtime-process';
import type { Random } from './random';
import { type SoakSecrets, secretEnvironment } from './secrets';
import type { SoakSettings, SoakTargetKind } from './settings';

/** Where requests go right now. */
export type Endpoint = { url: string; token: string };

/** One crash, as the report shows it. */
export type CrashRecord = { at: string; how: string; restartMs: number };

/** The system under test: a runtime the soak can reach, crash and read the output of. */
export interface SoakTarget {
  readonly kind: SoakTargetKind;
  /** The runtime as it is now; while it restarts, waits until it listens again. */
  endpoint(): Promise<Endpoint>;
  /** Crashes it (and, for `npm start`, restarts it on the same data directory). */
  crash(random: Random): Promise<CrashRecord>;
  /** The environment `hr-provisioning` needs against it, on top of HRP_URL and INGEST_TOKEN. */
  cliEnvironment(): Record<string, string>;
  /** Everything every process of it wrote so far, across restarts. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * The runtime's settings for the soak. Three differ from the defaults, and why: the offboarding guard is off
 * (it would hold most of the load's offboards for an operator, which the oracle does not model), a create
 * whose answer was lost holds back another create for 3 s rather than 2 minutes (injected 5xx and drops
 * happen before the sandbox acts, so each would otherwise wait out the whole bound), and the attempts are
 * the soak's (settings.ts, maxAttempts).
 */
export function runtimeEnvironment(
  settings: SoakSettings,
  sandbox: Sandbox,
  secrets: SoakSecrets,
): Record<string, string> {
  return {
    ...secretEnvironment(secrets),
    TFY_BASE_URL: sandbox.url,
    TFY_RATE_LIMIT_RPS: String(settings.clientRateRps),
    // Register mode with an invite URL also sends the invitation e-mail: "invited twice" is then observable.
    TFY_ACCEPT_INVITE_URL: 'https://app.example.com/accept',
    UNKNOWN_CREATE_BOUND_SECONDS: '3',
    OFFBOARD_GUARD_MAX: '0',
    MAX_ATTEMPTS: String(settings.maxAttempts),
    // Everything the runtime logs is scanned for the secrets, so let it say more than the tests' WARN.
    LOG_LEVEL: 'INFO',
  };
}

/** `npm start` as a child process, killed with SIGKILL and started again on its data directory. */
export async function startLocalTarget(
  settings: SoakSettings,
  sandbox: Sandbox,
  secrets: SoakSecrets,
): Promise<SoakTarget> {
  const env = runtimeEnvironment(settings, sandbox, secrets);
  const dataDir = newDataDir();
  const earlier: string[] = [];
  let runtime: RuntimeProcess = await startRuntimeProcess(env, dataDir);
  let restarting: Promise<void> | undefined;

  return {
    kind: 'start',
    endpoint: async () => {
      await restarting;
      return { url: runtime.url, token: secrets.ingestToken };
    },
    crash: async () => {
      const at = new Date().toISOString();
      const started = performance.now();
      let done!: () => void;
      restarting = new Promise((resolve) => {
        done = resolve;
      });
      try {
        await runtime.kill9();
        earlier.push(runtime.output());
        runtime = await startRuntimeProcess(env, dataDir);
      } finally {
        done();
        restarting = undefined;
      }
      return {
        at,
        how: 'kill -9, restart on the same data directory',
        restartMs: performance.now() - started,
      };
    },
    cliEnvironment: () => ({}),
    output: () => [...earlier, runtime.output()].join('\n'),
    stop: async () => {
      await restarting;
      await runtime.stop();
      removeDataDir(dataDir);
    },
  };
}
