import { readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';

/*
 * A process's memory as Linux keeps it in /proc/<pid>/status: VmHWM is the peak resident set since the process
 * started (the kernel's own high-water mark, so no sampling can miss a spike), VmRSS the current one, and
 * RssAnon/RssFile/RssShmem what it is made of. Values in MB.
 */

export type ProcMemory = { peakMb: number; rssMb: number; anonMb: number; fileMb: number; shmemMb: number };

function kbField(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  if (!match?.[1]) throw new Error(`/proc status has no ${name}`);
  return Number(match[1]);
}

export function readProcMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (name: string) => kbField(status, name) / 1024;
  return {
    peakMb: mb('VmHWM'),
    rssMb: mb('VmRSS'),
    anonMb: mb('RssAnon'),
    fileMb: mb('RssFile'),
    shmemMb: mb('RssShmem'),
  };
}

/**
 * Checks that `pid` is a node process running `entry` itself, not an npm or tsx wrapper around it, whose
 * memory would say nothing about the runtime's. Answers a description for the report.
 */
export function assertNodeRunning(pid: number, entry: string): string {
  const exe = basename(readlinkSync(`/proc/${pid}/exe`));
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  if (!exe.startsWith('node') || !args.some((arg) => arg.endsWith(entry))) {
    throw new Error(`pid ${pid} is ${exe} ${args.join(' ')}, not node running ${entry}`);
  }
  return `pid ${pid}: ${exe} ${args.slice(1).join(' ')}`;
}
