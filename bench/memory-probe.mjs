/*
 * Preloaded into the runtime by bench/memory.bench.ts (NODE_OPTIONS=--import=…), in plain JavaScript because
 * it loads before tsx does. Every 100 ms it reads the process's memory as Node sees it; at each new peak of
 * the resident set it writes what the peak was made of to BENCH_MEMORY_PROBE_FILE: the V8 heap (committed and
 * used), memory outside it that JavaScript holds (external, array buffers) and V8's own mallocs. The rest of the
 * resident set is native: SQLite's cache, the allocator's arenas, compiled code, the binary.
 */
import { writeFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';

const file = process.env.BENCH_MEMORY_PROBE_FILE;
if (file) {
  let peak = 0;
  const timer = setInterval(() => {
    const usage = process.memoryUsage();
    if (usage.rss <= peak) return;
    peak = usage.rss;
    const heap = getHeapStatistics();
    writeFileSync(
      file,
      JSON.stringify({
        rss: usage.rss,
        heapCommitted: heap.total_physical_size,
        heapUsed: usage.heapUsed,
        external: usage.external,
        arrayBuffers: usage.arrayBuffers,
        mallocedMemory: heap.malloced_memory,
      }),
    );
  }, 100);
  timer.unref();
}
