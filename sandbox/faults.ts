/** Fault injection: what can go wrong between a client and TrueFoundry, reproducible from a seed or a script. */

export type FaultSettings = {
  latencyMs?: number | { min: number; max: number };
  rateLimit?: { rps: number; burst?: number; retryAfterSeconds?: number } | null;
  serverErrorRate?: number;
  dropRate?: number;
  visibilityDelayMs?: number;
  scripted?: ScriptedFault[];
};

export type ScriptedFault = {
  method?: string;
  path?: string;
  times?: number;
  status?: number;
  retryAfterSeconds?: number;
  drop?: boolean;
  delayMs?: number;
  afterEffect?: boolean;
};

/** What the injector decided when a request arrived: how long to hold it, and which scripted fault it consumed. */
export type ArrivalPlan = { delayMs: number; scripted?: ScriptedFault };

const SERVER_ERROR_STATUSES = [500, 502, 503] as const;
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/** mulberry32: tiny and fast; seeded so that a failing run can be replayed exactly. */
export const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** Refills continuously rather than per second, so a steady client at exactly `rps` is never throttled. */
export class TokenBucket {
  private readonly ratePerMs: number;
  private readonly capacity: number;
  private readonly now: () => number;
  private tokens: number;
  private lastRefill: number;

  constructor(rps: number, capacity: number, now: () => number) {
    this.ratePerMs = rps / 1000;
    this.capacity = capacity;
    this.now = now;
    this.tokens = capacity;
    this.lastRefill = now();
  }

  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.lastRefill) * this.ratePerMs);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** A scripted fault together with how many more requests it will hit. */
type ArmedScript = { fault: ScriptedFault; remaining: number };

export const interruptsAnswer = (fault: ScriptedFault): boolean =>
  fault.drop === true || fault.status !== undefined;

export class FaultInjector {
  private readonly seed: number;
  private readonly now: () => number;
  private random: () => number;
  private settings: FaultSettings = {};
  private scripts: ArmedScript[] = [];
  private bucket: TokenBucket | undefined;

  constructor(seed: number, now: () => number = () => performance.now()) {
    this.seed = seed;
    this.now = now;
    this.random = seededRandom(seed);
  }

  /** Replaces every setting; a new rate limit starts with a full bucket. */
  replace(settings: FaultSettings): void {
    const parsed = parseFaultSettings(settings);
    this.settings = parsed;
    this.scripts = (parsed.scripted ?? []).map((fault) => ({ fault, remaining: fault.times ?? 1 }));
    const limit = parsed.rateLimit;
    this.bucket = limit
      ? new TokenBucket(limit.rps, limit.burst ?? defaultBurst(limit.rps), this.now)
      : undefined;
  }

  /** The settings in force, with scripted faults showing what is left of them. */
  current(): FaultSettings {
    const { scripted: _spent, ...rest } = structuredClone(this.settings);
    const scripted = this.scripts
      .filter((script) => script.remaining > 0)
      .map((script) => ({ ...script.fault, times: script.remaining }));
    return scripted.length > 0 ? { ...rest, scripted } : rest;
  }

  /** Back to no faults, and the random sequence starts over so a reset sandbox replays the same run. */
  reset(): void {
    this.replace({});
    this.random = seededRandom(this.seed);
  }

  get visibilityDelayMs(): number {
    return this.settings.visibilityDelayMs ?? 0;
  }

  /** Consumes the first scripted fault that matches, at arrival, so concurrent requests take them in arrival order. */
  onArrival(method: string, path: string): ArrivalPlan {
    const script = this.scripts.find(
      (candidate) =>
        candidate.remaining > 0 &&
        (candidate.fault.method === undefined || candidate.fault.method.toUpperCase() === method) &&
        (candidate.fault.path === undefined || candidate.fault.path === path),
    );
    if (script) script.remaining -= 1;
    const delayMs = this.drawLatency() + (script?.fault.delayMs ?? 0);
    return script ? { delayMs, scripted: script.fault } : { delayMs };
  }

  /** Seconds to announce in Retry-After when the bucket is empty; undefined when the request may pass. */
  rateLimited(): number | undefined {
    if (!this.bucket || this.bucket.take()) return undefined;
    return this.settings.rateLimit?.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
  }

  shouldDrop(): boolean {
    const rate = this.settings.dropRate ?? 0;
    return rate > 0 && this.random() < rate;
  }

  /** A 5xx status to answer instead of handling the request, or undefined. */
  serverError(): number | undefined {
    const rate = this.settings.serverErrorRate ?? 0;
    if (rate <= 0 || this.random() >= rate) return undefined;
    return SERVER_ERROR_STATUSES[Math.floor(this.random() * SERVER_ERROR_STATUSES.length)];
  }

  private drawLatency(): number {
    const latency = this.settings.latencyMs;
    if (latency === undefined) return 0;
    if (typeof latency === 'number') return latency;
    return latency.min + this.random() * (latency.max - latency.min);
  }
}

const defaultBurst = (rps: number): number => Math.max(1, Math.ceil(rps / 10));

// Validation of settings that come from HTTP or the environment: a typo should fail loudly, not silently disable a fault.

type Fields = Record<string, unknown>;

const asObject = (value: unknown, label: string): Fields => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`"${label}" must be an object`);
  }
  return value as Fields;
};

const rejectUnknownKeys = (fields: Fields, allowed: readonly string[], label: string): void => {
  const unknown = Object.keys(fields).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new TypeError(
      `"${label}" has unknown field(s): ${unknown.join(', ')}; allowed: ${allowed.join(', ')}`,
    );
  }
};

const numberIn = (value: unknown, label: string, min: number, max: number, integer = false): number => {
  const valid =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= min &&
    value <= max &&
    (!integer || Number.isInteger(value));
  if (!valid) {
    throw new TypeError(
      `"${label}" must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}`,
    );
  }
  return value as number;
};

// Absent keys stay absent, so GET /__sandbox/faults shows exactly what was PUT.
const compact = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;

const optional = <T>(value: unknown, parse: (present: unknown) => T): T | undefined =>
  value === undefined ? undefined : parse(value);

const parseLatency = (value: unknown): FaultSettings['latencyMs'] => {
  if (typeof value === 'number') return numberIn(value, 'latencyMs', 0, Number.MAX_SAFE_INTEGER);
  const range = asObject(value, 'latencyMs');
  rejectUnknownKeys(range, ['min', 'max'], 'latencyMs');
  const min = numberIn(range.min, 'latencyMs.min', 0, Number.MAX_SAFE_INTEGER);
  const max = numberIn(range.max, 'latencyMs.max', min, Number.MAX_SAFE_INTEGER);
  return { min, max };
};

const parseRateLimit = (value: unknown): FaultSettings['rateLimit'] => {
  if (value === null) return null;
  const limit = asObject(value, 'rateLimit');
  rejectUnknownKeys(limit, ['rps', 'burst', 'retryAfterSeconds'], 'rateLimit');
  const rps = numberIn(limit.rps, 'rateLimit.rps', Number.MIN_VALUE, Number.MAX_SAFE_INTEGER);
  const burst = optional(limit.burst, (v) =>
    numberIn(v, 'rateLimit.burst', 1, Number.MAX_SAFE_INTEGER, true),
  );
  const retryAfterSeconds = optional(limit.retryAfterSeconds, (v) =>
    numberIn(v, 'rateLimit.retryAfterSeconds', 0, 86_400, true),
  );
  return compact({ rps, burst, retryAfterSeconds });
};

const SCRIPTED_FIELDS = [
  'method',
  'path',
  'times',
  'status',
  'retryAfterSeconds',
  'drop',
  'delayMs',
  'afterEffect',
];

const parseScripted = (value: unknown, index: number): ScriptedFault => {
  const label = `scripted[${index}]`;
  const fields = asObject(value, label);
  rejectUnknownKeys(fields, SCRIPTED_FIELDS, label);
  const text = (name: string): string | undefined =>
    optional(fields[name], (v) => {
      if (typeof v !== 'string') throw new TypeError(`"${label}.${name}" must be a string`);
      return v;
    });
  const flag = (name: string): boolean | undefined =>
    optional(fields[name], (v) => {
      if (typeof v !== 'boolean') throw new TypeError(`"${label}.${name}" must be a boolean`);
      return v;
    });
  const integer = (name: string, min: number, max: number): number | undefined =>
    optional(fields[name], (v) => numberIn(v, `${label}.${name}`, min, max, true));
  return compact<ScriptedFault>({
    method: text('method')?.toUpperCase(),
    path: text('path'),
    times: integer('times', 1, Number.MAX_SAFE_INTEGER),
    status: integer('status', 100, 599),
    retryAfterSeconds: integer('retryAfterSeconds', 0, 86_400),
    drop: flag('drop'),
    delayMs: optional(fields.delayMs, (v) => numberIn(v, `${label}.delayMs`, 0, Number.MAX_SAFE_INTEGER)),
    afterEffect: flag('afterEffect'),
  });
};

const rate = (value: unknown, label: string): number => numberIn(value, label, 0, 1);

/** Checks settings that may come from outside TypeScript; throws a TypeError naming the offending field. */
export const parseFaultSettings = (value: unknown): FaultSettings => {
  const fields = asObject(value, 'faults');
  rejectUnknownKeys(
    fields,
    ['latencyMs', 'rateLimit', 'serverErrorRate', 'dropRate', 'visibilityDelayMs', 'scripted'],
    'faults',
  );
  const scripted = optional(fields.scripted, (v) => {
    if (!Array.isArray(v)) throw new TypeError('"scripted" must be an array');
    return v.map(parseScripted);
  });
  return compact<FaultSettings>({
    latencyMs: optional(fields.latencyMs, parseLatency),
    rateLimit: optional(fields.rateLimit, parseRateLimit),
    serverErrorRate: optional(fields.serverErrorRate, (v) => rate(v, 'serverErrorRate')),
    dropRate: optional(fields.dropRate, (v) => rate(v, 'dropRate')),
    visibilityDelayMs: optional(fields.visibilityDelayMs, (v) =>
      numberIn(v, 'visibilityDelayMs', 0, Number.MAX_SAFE_INTEGER),
    ),
    scripted,
  });
};
