import { readdirSync, readFileSync } from 'node:fs';
import type { Sandbox } from '../sandbox';
import { cliEnvOf } from '../test/emulate/emulate-harness';
import { removeDataDir, startEmulatorProcess } from '../test/support/runtime-process';
import type { Random } from './random';
import type { SoakSecrets } from './secrets';
import type { SoakSettings } from './settings';
import { runtimeEnvironment, type SoakTarget } from './target';

/*
 * `npm run emulate` as the system under test. It cannot be killed and restarted like `npm start`: its SQS
 * (fauxqs) lives in memory, so the messages queued at a restart would be gone while their events stay
 * `queued` (docs/emulate.md). Its crashes are the Lambda kind instead: the crash switch
 * (`PUT /__emulate/faults {"crash":["Worker"]}`, every Worker invocation dies before its handler) held on
 * for a moment, and at its start a SIGKILL of every Worker execution environment, so that the invocations in
 * flight die mid-handler, as a Lambda whose environment crashes does.
 */

/** The stack's context for the soak: see runtimeEnvironment for the shared part. */
const EMULATE_CONTEXT = {
  // The guard off (as locally); the operator routes unthrottled, since the soak reads every event back.
  offboardGuardMax: 0,
  apiOperatorThrottleRateLimit: 2_000,
  apiOperatorThrottleBurstLimit: 2_000,
  apiThrottleRateLimit: 2_000,
  apiThrottleBurstLimit: 2_000,
  // The shortest worker timeout: a crashed invocation's messages come back after 6 × this (60 s), not 6 min.
  workerTimeoutSeconds: 10,
};

/** Direct children of `parent`, read from /proc (Linux): the emulator's Lambda environments. */
function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command may hold spaces and parentheses: the fields after its closing parenthesis are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) children.push(Number(entry));
    } catch {
      // The process ended while being read.
    }
  }
  return children;
}

const environOf = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return '';
  }
};

const cmdlineOf = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
};

/** SIGKILLs the emulator's Worker execution environments; returns how many. */
function killWorkerEnvironments(dataDir: string): number {
  const emulator = childrenOf(process.pid).find(
    (pid) => cmdlineOf(pid).includes('emulate/main.ts') && environOf(pid).includes(`DATA_DIR=${dataDir}`),
  );
  if (emulator === undefined) return 0;
  let killed = 0;
  for (const pid of childrenOf(emulator)) {
    if (!/AWS_LAMBDA_FUNCTION_NAME=[^\0]*Worker/i.test(environOf(pid))) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {
      // Already gone.
    }
  }
  return killed;
}

async function crashSwitch(controlUrl: string, crash: string[]): Promise<void> {
  const answer = await fetch(`${controlUrl}/__emulate/faults`, {
    method: 'PUT',
    body: JSON.stringify({ crash }),
  });
  if (!answer.ok) throw new Error(`the crash switch answered ${answer.status}: ${await answer.text()}`);
}

export async function startEmulateTarget(
  settings: SoakSettings,
  sandbox: Sandbox,
  secrets: SoakSecrets,
): Promise<SoakTarget> {
  const emulator = await startEmulatorProcess({
    ...runtimeEnvironment(settings, sandbox, secrets),
    EMULATE_CONTEXT: JSON.stringify(EMULATE_CONTEXT),
  });
  const controlUrl = /control\s+(http:\/\/\S+?):? /.exec(emulator.output())?.[1];
  if (controlUrl === undefined) throw new Error('the emulator banner names no control endpoint');

  return {
    kind: 'emulate',
    endpoint: async () => ({ url: emulator.url, token: secrets.ingestToken }),
    crash: async (random: Random) => {
      const at = new Date().toISOString();
      const started = performance.now();
      await crashSwitch(controlUrl, ['Worker']);
      const killed = killWorkerEnvironments(emulator.dataDir);
      // A script's pause, not a test's: how long the switch stays on is part of the seeded crash.
      const holdMs = random.int(1_000, 3_000);
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      await crashSwitch(controlUrl, []);
      return {
        at,
        how: `crash switch on for ${holdMs} ms, ${killed} Worker environment(s) SIGKILLed`,
        restartMs: performance.now() - started,
      };
    },
    cliEnvironment: () => cliEnvOf(emulator),
    output: () => emulator.output(),
    stop: async () => {
      await emulator.stop();
      removeDataDir(emulator.dataDir);
    },
  };
}
