import { CHANNELS } from './load';
import type { SoakResult } from './run';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const MAX_LINES_PER_KIND = 15;

/** The summary table, then the violations grouped by kind (each kind cut at a few lines). */
export function formatReport(result: SoakResult): string {
  const { settings, load, calls, statuses, durations, violations } = result;
  const channels = CHANNELS.map(
    (c) => `${c} ${load.byChannel[c].events} in ${load.byChannel[c].requests}`,
  ).join(', ');
  const rows: [string, string][] = [
    ['seed', `${settings.seed}   (SOAK_SEED=${settings.seed} replays the plan)`],
    [
      'target',
      settings.target === 'start' ? 'npm start (local/main.ts)' : 'npm run emulate (emulate/main.ts)',
    ],
    ['events sent', `${load.sends} (${load.unique} distinct + ${load.duplicates} duplicates)`],
    ['people', `${load.people}`],
    [
      'in the load',
      `${load.outOfOrder} out of order, ${load.equalTimes} equal timestamps, ${load.emailChanges} email changes, ${load.rehires} rehires, ${load.offboards} offboards`,
    ],
    [
      'cross-person',
      `${load.deliberateFailures} deliberate permanent failures, ${load.relinks} re-links under a new employee id`,
    ],
    ['channels', `events in requests: ${channels}`],
    [
      'requests',
      `${result.sends.requests} (${result.sends.retries} retried after a crash or a 5xx, ${result.sends.cliRuns} CLI runs)`,
    ],
    [
      'crashes',
      `${result.crashes.length}${result.crashes.map((c, i) => `\n  ${i + 1}. at ${c.usersAtCrash} users: ${c.how} (${seconds(c.restartMs)})`).join('')}`,
    ],
    [
      'TrueFoundry calls',
      `${calls.total}: ${calls.created} creates, ${calls.invitations} invitation e-mails`,
    ],
    [
      'faults injected',
      `${calls.serverErrors} 5xx, ${calls.dropped} drops, ${calls.rateLimited} 429 (of ${settings.faults.serverErrorRate * 100} %, ${settings.faults.dropRate * 100} %, ${settings.faults.rateLimitRps}/s; visibility delay ${settings.faults.visibilityDelayMs} ms)`,
    ],
    [
      'terminal',
      Object.entries(statuses)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([status, n]) => `${status} ${n}`)
        .join(', '),
    ],
    [
      'attempts',
      `${Object.entries(result.attempts)
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([attempts, n]) => `${n} × ${attempts}`)
        .join(', ')} (MAX_ATTEMPTS ${settings.maxAttempts})`,
    ],
    ['dead letters', `${result.deadLetters}`],
    [
      'secret scan',
      `${(result.scannedBytes.total / 1e6).toFixed(1)} MB read (${(result.scannedBytes.output / 1e6).toFixed(1)} MB of runtime output) for 4 secrets`,
    ],
    ['violations', `${violations.length}`],
    [
      'durations',
      `start ${seconds(durations.startMs)}, ingest ${seconds(durations.ingestMs)}, drain ${seconds(durations.drainMs)}, check ${seconds(durations.checkMs)}, total ${seconds(durations.totalMs)}`,
    ],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines = rows.map(
    ([name, value]) => `${name.padEnd(width)}  ${value.replaceAll('\n', `\n${' '.repeat(width + 2)}`)}`,
  );

  const byKind = new Map<string, string[]>();
  for (const { kind, detail } of violations) byKind.set(kind, [...(byKind.get(kind) ?? []), detail]);
  for (const [kind, details] of byKind) {
    lines.push('', `VIOLATION ${kind} (${details.length})`);
    lines.push(...details.slice(0, MAX_LINES_PER_KIND).map((d) => `  ${d}`));
    if (details.length > MAX_LINES_PER_KIND)
      lines.push(`  … and ${details.length - MAX_LINES_PER_KIND} more`);
  }
  return lines.join('\n');
}
