/**
 * Memory: the peak resident set of `npm start` while it drains 10,000 events (hires, role changes and offboards
 * 4:1:1, bench/mixed-events.ts), target ≤ 200 MB. The peak is the kernel's VmHWM of the runtime's own node
 * process (test/support/runtime-process.ts spawns `node <npm start's flags> --import tsx local/main.ts`
 * directly, no npm or tsx wrapper; the flags include the V8 heap cap, --max-old-space-size=128; its pid is the one the runtime writes to DATA_DIR/runtime.pid, checked against /proc/<pid>/cmdline),
 * read after the drain and before anything else is asked of it. The reference is the same process idle, just
 * started. The sandbox answers without latency or rate limit and the runtime paces at 10,000 calls/s: the
 * drain goes as fast as the runtime can, which is what loads its memory most.
 *
 * What the peak is made of comes from bench/memory-probe.mjs, preloaded into the runtime: the V8 heap
 * (committed and in use) at the moment of the peak. Should the target be missed, the drain runs again with the
 * V8 heap capped (--max-old-space-size), to tell a heap that grows lazily from one that holds what it grew for:
 * a leak would crash or crawl under the cap. (Investigated once on 2 December 2026 with heap snapshots: after
 * the 10,000-event drain the live heap was 26 MB, against 14 MB idle; the growth was compiled code and
 * timers still pending; nothing per event stayed.)
 * BENCH_SCALE scales the events. A module of `npm run bench`; alone: `npx tsx bench/memory.bench.ts`.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from '../sandbox';
import { removeDataDir, startRuntimeProcess } from '../test/support/runtime-process';
import type { BenchModule, Figure, Series } from './figure';
import { listEvents, postEvents, statusCounts, waitUntilDrained } from './local-drain';
import { type MixedWorkload, mixedWorkload, seedExisting } from './mixed-events';
import { assertNodeRunning, type ProcMemory, readProcMemory } from './proc-status';
import { runWhenMain } from './run-alone';
import { scaled } from './scale';

const TARGET_MB = 200;
const MIX = { hires: scaled(6_668, 4), roleChanges: scaled(1_666, 1), offboards: scaled(1_666, 1) };
const SAMPLE_MS = 250;
/** The heap cap of the diagnostic run, MB: well under the target, well over the live heap. */
const HEAP_CAP_MB = 128;
const PROBE = new URL('./memory-probe.mjs', import.meta.url).pathname;

/** What the probe saw at the peak of the resident set, in bytes. */
type ProbePeak = { rss: number; heapCommitted: number; heapUsed: number; external: number };

type Drain = {
  processText: string;
  idle: ProcMemory;
  peak: ProcMemory;
  probe: ProbePeak | undefined;
  samples: Array<[number, number]>;
  drained: boolean;
  drainMs: number;
  ingestMs: number;
  statuses: Record<string, number>;
};

const mb = (bytes: number) => bytes / 1024 ** 2;

/** One drain of the workload through a fresh runtime and sandbox, with `nodeOptions` for the runtime's node. */
async function drainOnce(workload: MixedWorkload, nodeOptions: string): Promise<Drain> {
  const sandbox = await startSandbox();
  seedExisting(sandbox, workload);
  const probeFile = join(tmpdir(), `hrp-memory-probe-${process.pid}-${Date.now()}.json`);
  const runtime = await startRuntimeProcess({
    TFY_BASE_URL: sandbox.url,
    TFY_API_KEY: sandbox.apiKey,
    TFY_RATE_LIMIT_RPS: '10000',
    // The guard would hold all but 25 of the offboards for an operator: that is its job, not this bench's.
    OFFBOARD_GUARD_MAX: '0',
    BENCH_MEMORY_PROBE_FILE: probeFile,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${PROBE} ${nodeOptions}`.trim(),
  });
  try {
    const pid = Number(readFileSync(join(runtime.dataDir, 'runtime.pid'), 'utf8'));
    const processText = assertNodeRunning(pid, 'local/main.ts');
    const idle = readProcMemory(pid);
    const samples: Array<[number, number]> = [];
    const started = performance.now();
    const sample = () => samples.push([(performance.now() - started) / 1000, readProcMemory(pid).rssMb]);
    const timer = setInterval(sample, SAMPLE_MS);
    let drained: boolean;
    let ingestMs: number;
    let peak: ProcMemory;
    try {
      ingestMs = await postEvents(runtime, workload.events);
      drained = await waitUntilDrained(runtime, { pollMs: 100, deadlineAt: performance.now() + 600_000 });
      sample();
      // Read before anything else is asked of the runtime: listing the events would add its own peak.
      peak = readProcMemory(pid);
    } finally {
      clearInterval(timer);
    }
    const drainMs = performance.now() - started;
    const probe = existsSync(probeFile)
      ? (JSON.parse(readFileSync(probeFile, 'utf8')) as ProbePeak)
      : undefined;
    const statuses = statusCounts(await listEvents(runtime));
    return { processText, idle, peak, probe, samples, drained, drainMs, ingestMs, statuses };
  } finally {
    await runtime.stop();
    removeDataDir(runtime.dataDir);
    rmSync(probeFile, { force: true });
    await sandbox.close();
  }
}

function breakdown(run: Drain): Record<string, number | string> {
  return {
    process: run.processText,
    'drain (s)': run.drainMs / 1000,
    'ingest (s)': run.ingestMs / 1000,
    statuses: JSON.stringify(run.statuses),
    ...(run.probe
      ? {
          'at the peak: V8 heap committed (MB)': mb(run.probe.heapCommitted),
          'at the peak: V8 heap in use (MB)': mb(run.probe.heapUsed),
          'at the peak: outside the V8 heap (MB)': mb(run.probe.rss - run.probe.heapCommitted),
        }
      : {}),
    'mapped files at the end (MB)': run.peak.fileMb,
    'idle: anonymous (MB)': run.idle.anonMb,
  };
}

function missReason(run: Drain, capped: Drain | undefined): string {
  if (!run.drained) return `the drain did not finish within 10 minutes (${JSON.stringify(run.statuses)})`;
  const parts = [`the peak (VmHWM) was ${run.peak.peakMb.toFixed(0)} MB`];
  if (run.probe) {
    parts.push(
      `at the peak the V8 heap had ${mb(run.probe.heapCommitted).toFixed(0)} MB committed, ${mb(run.probe.heapUsed).toFixed(0)} MB of it in use ` +
        '(V8 grows its heap ahead of need and collects lazily while memory is plentiful), and ' +
        `${mb(run.probe.rss - run.probe.heapCommitted).toFixed(0)} MB lay outside it (the node binary and the SQLite addon mapped, ` +
        `${run.peak.fileMb.toFixed(0)} MB; SQLite's cache and the allocator's arenas)`,
    );
  }
  if (capped) {
    parts.push(
      capped.drained
        ? `with the heap capped at ${HEAP_CAP_MB} MB (--max-old-space-size) the same drain peaked at ${capped.peak.peakMb.toFixed(0)} MB and finished in ${(capped.drainMs / 1000).toFixed(1)} s (uncapped: ${(run.drainMs / 1000).toFixed(1)} s), so most of the uncapped heap was room to grow, not data${capped.peak.peakMb <= TARGET_MB ? ': a heap cap in `npm start` would meet the target' : ''}`
        : `with the heap capped at ${HEAP_CAP_MB} MB the drain did not finish (${JSON.stringify(capped.statuses)}): the heap needs more than that`,
    );
  }
  return parts.join('; ');
}

export const memoryBench: BenchModule = {
  name: 'memory',
  async run() {
    const workload = mixedWorkload(MIX, 'mem');
    const total = workload.events.length;
    const count = total.toLocaleString('en-US');
    console.log(`memory: ${count} events through npm start, the sandbox without latency or rate limit`);
    const run = await drainOnce(workload, '');
    const met = run.drained && run.peak.peakMb <= TARGET_MB;
    let capped: Drain | undefined;
    if (!met && run.drained) {
      console.log(
        `memory: peak ${run.peak.peakMb.toFixed(0)} MB; again with --max-old-space-size=${HEAP_CAP_MB}…`,
      );
      capped = await drainOnce(mixedWorkload(MIX, 'mem'), `--max-old-space-size=${HEAP_CAP_MB}`);
    }
    const figures: Figure[] = [
      {
        id: 'memory.peak-rss',
        label: `Peak RSS of npm start draining ${count} events`,
        measured: run.peak.peakMb,
        unit: 'MB',
        reference: { label: 'the same process idle, just started', value: run.idle.rssMb, unit: 'MB' },
        target: { text: `≤ ${TARGET_MB} MB`, met },
        ...(met ? {} : { reason: missReason(run, capped) }),
        details: breakdown(run),
      },
    ];
    if (capped) {
      figures.push({
        id: 'memory.peak-rss-heap-capped',
        label: `Peak RSS draining ${count} events, V8 heap capped at ${HEAP_CAP_MB} MB (diagnosis)`,
        measured: capped.peak.peakMb,
        unit: 'MB',
        reference: { label: 'idle, capped', value: capped.idle.rssMb, unit: 'MB' },
        details: breakdown(capped),
      });
    }
    const lines: Series['lines'] = [{ label: 'npm start', points: run.samples }];
    if (capped) lines.push({ label: `--max-old-space-size=${HEAP_CAP_MB}`, points: capped.samples });
    const series: Series[] = [
      {
        id: 'memory.rss',
        title: `npm start draining ${count} events: resident set (VmRSS)`,
        xLabel: 'seconds since the first POST',
        yLabel: 'RSS (MB)',
        lines,
        limit: { label: `target ${TARGET_MB} MB`, value: TARGET_MB },
      },
    ];
    return { figures, series };
  },
};

runWhenMain(import.meta.url, memoryBench);
