import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/*
 * CPU time as Linux accounts it, for a bench's reasons: whether a server was limited by its own thread
 * (busy the whole run) or waited (on a disk sync, or for a machine shared with other work).
 */

/** Clock ticks a second in /proc's times (USER_HZ): 100 on every Linux this runs on. */
const TICKS_PER_SECOND = 100;

/** The CPU time (user + system) the main thread of `pid` has used so far, in milliseconds. */
export function mainThreadCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the
  // 14th and 15th fields of the line, the 12th and 13th after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** Busy and total CPU time of every core so far (os.cpus() counts since boot), in milliseconds. */
export function machineCpuMs(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}
