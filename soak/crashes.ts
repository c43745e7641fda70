import type { Sandbox } from '../sandbox';
import type { Random } from './random';
import type { CrashRecord, SoakTarget } from './target';

export type CrashMoment = CrashRecord & { usersAtCrash: number; threshold: number };

const POLL_MS = 25;

/**
 * Crashes the target at seeded moments. A moment is a point of progress, not of time (timings vary from
 * machine to machine): the crash comes when TrueFoundry holds a seeded number of users, drawn between 5 %
 * and 80 % of the accounts the load ends with, so it lands mid-flight whatever the machine's speed. The
 * sandbox's users are cheap to count; its call log would be copied whole on every look.
 */
export class CrashScheduler {
  readonly done: CrashMoment[] = [];
  readonly failures: string[] = [];
  private readonly thresholds: number[];
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly target: SoakTarget,
    private readonly sandbox: Sandbox,
    private readonly random: Random,
    crashes: number,
    expectedAccounts: number,
  ) {
    const low = Math.max(1, Math.floor(expectedAccounts * 0.05));
    const high = Math.max(low, Math.floor(expectedAccounts * 0.8));
    this.thresholds = Array.from({ length: crashes }, () => random.int(low, high)).sort((a, b) => a - b);
  }

  start(): void {
    this.loop = this.run();
  }

  /** The crashes still to come, at once: the load drained before TrueFoundry reached their moments. */
  async finish(): Promise<void> {
    this.stopped = true;
    await this.loop;
    while (this.thresholds.length > 0) await this.crashNow(this.thresholds.shift() ?? 0);
  }

  private async run(): Promise<void> {
    while (!this.stopped && this.thresholds.length > 0) {
      const next = this.thresholds[0] ?? 0;
      if (this.sandbox.users().length >= next) {
        this.thresholds.shift();
        await this.crashNow(next);
      } else {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    }
  }

  private async crashNow(threshold: number): Promise<void> {
    const usersAtCrash = this.sandbox.users().length;
    try {
      const record = await this.target.crash(this.random);
      this.done.push({ ...record, usersAtCrash, threshold });
    } catch (error) {
      this.failures.push(`crash at ${usersAtCrash} users: ${(error as Error).message}`);
      this.stopped = true;
      this.thresholds.length = 0;
    }
  }
}
