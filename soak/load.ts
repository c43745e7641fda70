import type { CanonicalEvent } from '../functions/core/events/canonical-event';
import { crossPersonEvents } from './cross-person';
import type { Random } from './random';
import type { SoakSettings } from './settings';

/*
 * The soak's load, planned up front from the seed: each person's story (hire, role changes, email changes,
 * offboard, rehire), sent in an interleaved order with out-of-order events and duplicates, cut into requests
 * over the runtime's channels. Pure: no I/O, the same seed gives the same plan.
 */

/** How a request reaches the runtime. */
export type Channel = 'single' | 'signed' | 'csv' | 'cli';
/** Ingest keeps one id namespace per source family (accept-events.ts): a resend must use its original's. */
export type Family = 'token' | 'webhook' | 'batch';

export const FAMILY_OF: Record<Channel, Family> = {
  single: 'token',
  cli: 'token',
  signed: 'webhook',
  csv: 'batch',
};
const MAX_EVENTS: Record<Channel, number> = { single: 1, signed: 10, csv: 40, cli: 100 };
// Weights of requests, not events: a single carries one event, a CSV some twenty (a request never holds two
// events of one person), so these give roughly 20 % singles, 20 % signed, 60 % CSV rows of the events.
const CHANNEL_WEIGHTS: [Channel, number][] = [
  ['single', 75],
  ['signed', 6],
  ['csv', 8],
];
export const CHANNELS: readonly Channel[] = ['single', 'signed', 'csv', 'cli'];

/**
 * One request. It never holds two events of one person: a request recorded half-way when the runtime is
 * killed keeps the acceptance order of what it recorded, so within a request the order must not matter.
 */
export type Chunk = { channel: Channel; events: CanonicalEvent[]; duplicates: number };

export type LoadStats = {
  sends: number;
  unique: number;
  duplicates: number;
  outOfOrder: number;
  equalTimes: number;
  emailChanges: number;
  rehires: number;
  offboards: number;
  people: number;
  deliberateFailures: number;
  relinks: number;
  byChannel: Record<Channel, { requests: number; events: number }>;
};

export type LoadPlan = {
  /** The interleaved load. */
  main: Chunk[];
  /** Sent once the main load is done: cross-person events, whose outcome would otherwise depend on timing. */
  final: Chunk[];
  /** Ids of the events planned to fail for good, with the employee id that holds the address. */
  expectedConflicts: Map<string, string>;
  stats: LoadStats;
};

const ROLE_SETS = [
  ['tenant-member'],
  ['tenant-admin'],
  ['tenant-viewer'],
  ['tenant-member', 'tenant-viewer'],
];
const MINUTE = 60_000;
const MAX_STEP_MINUTES = 720;

const emailOf = (person: number, version: number) => `p${person}-v${version}@soak.example.com`;
const employeeIdOf = (person: number) => `E${String(person).padStart(5, '0')}`;

type StoryCounts = Pick<LoadStats, 'equalTimes' | 'emailChanges' | 'rehires' | 'offboards'>;

/** One person's events in the order they happened. */
function story(random: Random, person: number, length: number, startMs: number, counts: StoryCounts) {
  const events: CanonicalEvent[] = [];
  let state: 'active' | 'offboarded' = 'active';
  let version = 0;
  let at = startMs;
  const make = (type: CanonicalEvent['type'], roles?: string[]): CanonicalEvent => ({
    id: `soak-${person}-${events.length}`,
    type,
    occurredAt: new Date(at).toISOString(),
    employee: { id: employeeIdOf(person), email: emailOf(person, version), name: `Soak Person ${person}` },
    ...(roles ? { roles } : {}),
  });
  // Most people start with a hire; some with a role change, which creates someone TrueFoundry does not know.
  events.push(make(random.chance(0.9) ? 'hire' : 'role_change', random.pick(ROLE_SETS)));
  for (let i = 1; i < length; i++) {
    const equal = random.chance(0.03);
    if (equal) counts.equalTimes++;
    at += equal ? 0 : random.int(1, MAX_STEP_MINUTES) * MINUTE;
    const move =
      state === 'active'
        ? random.weighted<string>([
            ['role', 50],
            ['email', 12],
            ['offboard', 15],
            ['hire-again', 8],
          ])
        : random.weighted<string>([
            ['rehire', 65],
            ['role', 20],
            ['offboard', 15],
          ]);
    if (move === 'offboard') {
      counts.offboards++;
      state = 'offboarded';
      events.push(make('offboard'));
    } else if (move === 'email') {
      counts.emailChanges++;
      version++;
      events.push(make(random.chance(0.7) ? 'role_change' : 'hire', random.pick(ROLE_SETS)));
    } else if (move === 'rehire') {
      counts.rehires++;
      if (random.chance(0.15)) {
        counts.emailChanges++;
        version++;
      }
      state = 'active';
      events.push(make('hire', random.pick(ROLE_SETS)));
    } else {
      events.push(make(move === 'role' ? 'role_change' : 'hire', random.pick(ROLE_SETS)));
    }
  }
  return events;
}

/** Moves events to after a later event of the same person; returns how many moved. */
function reorder(random: Random, stories: CanonicalEvent[][], wanted: number): number {
  const candidates = stories.flatMap((events, person) =>
    events.slice(0, -1).map((event) => ({ person, event })),
  );
  let moved = 0;
  for (const { person, event } of random.shuffle(candidates).slice(0, wanted)) {
    const events = stories[person] ?? [];
    const index = events.indexOf(event);
    // An earlier move may have left this one last already: nothing later to go behind.
    if (index === events.length - 1) continue;
    events.splice(index, 1);
    events.splice(random.int(index + 1, events.length), 0, event);
    moved++;
  }
  return moved;
}

/** Every person's events in one send order, each person's own order kept. */
function interleave(random: Random, stories: CanonicalEvent[][]): CanonicalEvent[] {
  const slots = random.shuffle(stories.flatMap((events, person) => events.map(() => person)));
  const next = stories.map(() => 0);
  return slots.map((person) => {
    const index = next[person] ?? 0;
    next[person] = index + 1;
    return stories[person]?.[index] as CanonicalEvent;
  });
}

type Send = { event: CanonicalEvent; duplicate: boolean };

/** Resends of ids sent before, each placed at a random point after its original. */
function withDuplicates(random: Random, order: CanonicalEvent[], count: number): Send[] {
  const keyed = order.map((event, index) => ({ key: index, send: { event, duplicate: false } }));
  for (let i = 0; i < count; i++) {
    const original = random.int(0, order.length - 1);
    const event = order[original] as CanonicalEvent;
    const key = original + 0.5 + random.float() * (order.length - original);
    keyed.push({ key, send: { event, duplicate: true } });
  }
  return keyed.sort((a, b) => a.key - b.key).map((entry) => entry.send);
}

/** Cuts the sends into requests: a channel per request, one event per person, resends in their family. */
function chunk(random: Random, sends: Send[], cliSends: number): Chunk[] {
  const familyOf = new Map<string, Family>();
  const chunks: Chunk[] = [];
  let current: (Chunk & { people: Set<string> }) | undefined;
  // `hr-provisioning send` starts a process: a few requests, spread evenly over the run.
  const cliAt = Array.from({ length: cliSends }, (_, k) =>
    Math.floor(((k + 1) * sends.length) / (cliSends + 1)),
  );
  sends.forEach(({ event, duplicate }, index) => {
    const required = duplicate ? familyOf.get(event.id) : undefined;
    const fits =
      current !== undefined &&
      current.events.length < MAX_EVENTS[current.channel] &&
      !current.people.has(event.employee.id) &&
      (required === undefined || FAMILY_OF[current.channel] === required);
    if (!fits) {
      let channel: Channel;
      if (required !== undefined) {
        channel = random.pick(CHANNELS.filter((c) => c !== 'cli' && FAMILY_OF[c] === required));
      } else if (cliAt.length > 0 && index >= (cliAt[0] ?? 0)) {
        cliAt.shift();
        channel = 'cli';
      } else {
        channel = random.weighted(CHANNEL_WEIGHTS);
      }
      current = { channel, events: [], duplicates: 0, people: new Set() };
      chunks.push(current);
    }
    if (current === undefined) throw new Error('unreachable: a chunk was just opened');
    current.events.push(event);
    current.people.add(event.employee.id);
    if (duplicate) current.duplicates++;
    else familyOf.set(event.id, FAMILY_OF[current.channel]);
  });
  return chunks.map(({ channel, events, duplicates }) => ({ channel, events, duplicates }));
}

/** The whole load of one run. */
export function planLoad(settings: SoakSettings, random: Random, nowMs = Date.now()): LoadPlan {
  const counts: StoryCounts = { equalTimes: 0, emailChanges: 0, rehires: 0, offboards: 0 };
  const reserve = settings.deliberateFailures + settings.relinks;
  const unique = Math.round(settings.events * (1 - settings.duplicateRate));
  const duplicates = settings.events - unique;
  const mainUnique = unique - reserve;

  const lengths = Array.from({ length: settings.people }, () => 1);
  const lengthRandom = random.fork('lengths');
  for (let i = settings.people; i < mainUnique; i++) {
    const person = lengthRandom.int(0, settings.people - 1);
    lengths[person] = (lengths[person] ?? 1) + 1;
  }
  // Everything lies in the past (ingest refuses an occurredAt ahead of its clock), the final events last.
  const longest = Math.max(...lengths);
  const startMs = nowMs - (2 * 24 * 60 + longest * MAX_STEP_MINUTES) * MINUTE;
  const storyRandom = random.fork('stories');
  const stories = lengths.map((length, person) =>
    story(storyRandom, person, length, startMs + storyRandom.int(0, 24 * 60) * MINUTE, counts),
  );
  const outOfOrder = reorder(
    random.fork('reorder'),
    stories,
    Math.round(mainUnique * settings.outOfOrderRate),
  );
  const order = interleave(random.fork('interleave'), stories);
  const final = crossPersonEvents(random.fork('final'), order, settings, nowMs - 60 * MINUTE);
  const sends = withDuplicates(random.fork('duplicates'), order, duplicates);
  const main = chunk(random.fork('chunks'), sends, settings.cliSends);
  const finalChunks: Chunk[] = final.events.map((event) => ({
    channel: 'single',
    events: [event],
    duplicates: 0,
  }));

  const byChannel = Object.fromEntries(
    CHANNELS.map((c) => [c, { requests: 0, events: 0 }]),
  ) as LoadStats['byChannel'];
  for (const { channel, events } of [...main, ...finalChunks]) {
    byChannel[channel].requests++;
    byChannel[channel].events += events.length;
  }
  return {
    main,
    final: finalChunks,
    expectedConflicts: final.expectedConflicts,
    stats: {
      sends: sends.length + final.events.length,
      unique: order.length + final.events.length,
      duplicates,
      outOfOrder,
      ...counts,
      people: settings.people,
      deliberateFailures: final.expectedConflicts.size,
      relinks: final.relinks,
      byChannel,
    },
  };
}
