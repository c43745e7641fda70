import { parseArgs } from 'node:util';
import { newSeed } from './random';

/** Which runtime the soak drives: `npm start` (local/main.ts) or `npm run emulate` (the synthesized stack). */
export type SoakTargetKind = 'start' | 'emulate';

/** What the TrueFoundry sandbox does wrong, on purpose (sandbox/faults.ts). */
export type SoakFaults = {
  serverErrorRate: number;
  dropRate: number;
  visibilityDelayMs: number;
  /** The sandbox's own limit, a little under what the client allows itself, so that 429s do happen. */
  rateLimitRps: number;
  rateLimitBurst: number;
  latencyMs: { min: number; max: number };
};

export type SoakSettings = {
  target: SoakTargetKind;
  seed: number;
  /** Every event sent, duplicates included. */
  events: number;
  people: number;
  /** Share of the sends that are an id sent before, resent unchanged. */
  duplicateRate: number;
  /** Share of the distinct events sent after a later event of the same person. */
  outOfOrderRate: number;
  /** kill -9 and restart (start), or crash-switch episodes (emulate). */
  crashes: number;
  /** Requests that go through `hr-provisioning send` (a child process each) rather than fetch. */
  cliSends: number;
  /** Events that must fail for good: an email held by another active person (half hires, half email changes). */
  deliberateFailures: number;
  /** Rehires under a new employee number with a leaver's email, which must re-link the account. */
  relinks: number;
  faults: SoakFaults;
  /** TFY_RATE_LIMIT_RPS: what the pipeline allows itself. */
  clientRateRps: number;
  /**
   * MAX_ATTEMPTS (maxAttempts on the emulated stack). 8, not the default 5: the soak checks the contract under
   * faults, not the retry budget, and at 7 % failed calls plus kill -9 (a delivery cut short counts) an event
   * now and then needs 5 deliveries; `--max-attempts 5` runs with the default. Deliveries that only wait for a
   * create whose answer was lost spend none (the soak found that they did, and failed events for it).
   */
  maxAttempts: number;
  /** The whole run gives up (a violation) after this long without every event terminal. */
  drainTimeoutMs: number;
};

const FAULTS: SoakFaults = {
  serverErrorRate: 0.05,
  dropRate: 0.02,
  visibilityDelayMs: 300,
  rateLimitRps: 90,
  rateLimitBurst: 5,
  latencyMs: { min: 1, max: 15 },
};

/** `npm run soak`: the numbers. */
export const FULL_SOAK: Omit<SoakSettings, 'seed' | 'target'> = {
  events: 5_000,
  people: 500,
  duplicateRate: 0.1,
  outOfOrderRate: 0.1,
  crashes: 3,
  cliSends: 4,
  deliberateFailures: 8,
  relinks: 4,
  faults: FAULTS,
  clientRateRps: 100,
  maxAttempts: 8,
  drainTimeoutMs: 20 * 60_000,
};

/** The run inside `npm test` (test/soak/soak-short.test.ts): the same code, smaller. */
export const SHORT_SOAK: Omit<SoakSettings, 'seed' | 'target'> = {
  ...FULL_SOAK,
  events: 400,
  people: 60,
  crashes: 1,
  cliSends: 1,
  deliberateFailures: 2,
  relinks: 1,
  drainTimeoutMs: 90_000,
};

const USAGE = `usage: npm run soak -- [--target start|emulate] [--seed N] [--events N] [--people N] [--crashes N]
                           [--max-attempts N] [--short]
  SOAK_TARGET and SOAK_SEED set the same; --short runs the size of the test inside npm test.`;

const wholeNumber = (value: string | undefined, name: string, fallback: number, min = 0): number => {
  if (value === undefined || value.trim() === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min) {
    throw new Error(`${name} must be a whole number of at least ${min}, got "${value}"\n${USAGE}`);
  }
  return number;
};

/** The settings of `npm run soak`, from its arguments and SOAK_* variables; throws with the usage on a mistake. */
export function soakSettingsFrom(argv: readonly string[], env: NodeJS.ProcessEnv): SoakSettings {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      target: { type: 'string' },
      seed: { type: 'string' },
      events: { type: 'string' },
      people: { type: 'string' },
      crashes: { type: 'string' },
      'max-attempts': { type: 'string' },
      short: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) throw new Error(USAGE);
  const target = values.target ?? env.SOAK_TARGET ?? 'start';
  if (target !== 'start' && target !== 'emulate') {
    throw new Error(`--target must be start or emulate, got "${target}"\n${USAGE}`);
  }
  const base = values.short ? SHORT_SOAK : FULL_SOAK;
  const settings: SoakSettings = {
    ...base,
    target,
    seed: wholeNumber(values.seed ?? env.SOAK_SEED, 'SOAK_SEED', newSeed()),
    events: wholeNumber(values.events, '--events', base.events, 10),
    people: wholeNumber(values.people, '--people', base.people, 4),
    crashes: wholeNumber(values.crashes, '--crashes', base.crashes),
    maxAttempts: wholeNumber(values['max-attempts'], '--max-attempts', base.maxAttempts, 1),
  };
  if (settings.people * 2 > settings.events) {
    throw new Error(`--events must be at least twice --people (each person gets a story)\n${USAGE}`);
  }
  return settings;
}
