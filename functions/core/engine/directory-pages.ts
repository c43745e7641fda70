import type { CanonicalEvent } from '../events/canonical-event';
import type { CallOptions } from '../truefoundry/client';
import { type Backlog, type Log, silentLog, type UsersApi, type UsersApiProvider } from './ports';

/*
 * Call economy when many events wait: instead of one exact-email read per event, TrueFoundry's directory is
 * read in pages of up to 1,000 users (GET users, deactivated users included) and kept for a short while in
 * this process. What a page may decide, from TrueFoundry's contract (api-contract.ts) and the engine:
 *
 * - A page may only prove ABSENCE, and only for an account the event is to provision (a hire or a role
 *   change of its own email, on the event's first delivery). The create that absence leads to is itself
 *   conflict-safe: invite answers 409 for an existing user, and so does register once it is sent without
 *   skipIfUserExists (pagedUsersApi below); event-run.ts records a 409 as `exists` and re-reads the user before
 *   planning again. A page taken before another event's write (a create by a concurrent worker, a create
 *   whose answer was lost, a rehire of a deactivated user) therefore costs at most one 409 and one read, never
 *   a wrong state, and never a second invitation: TrueFoundry itself refuses to create the user twice, and the
 *   step ledger's unknown-create bound still holds a repeated create of the same event back.
 * - With skipIfUserExists, register succeeds silently for an existing user: the plan made from the page
 *   (create, tenant roles, only the non-empty resource roles) would then run on a user who exists, say
 *   deactivated, and leave them deactivated, or keep resource roles the event clears. Hence the flag is off for
 *   a create planned from a page; with a fresh read it stays on, as before.
 * - A user PRESENT in a page decides nothing: the event reads the user itself, whatever the page says. Unsafe
 *   cases, kept on the per-event read: a user present and active with the wanted roles would plan a no-op,
 *   though an offboard applied since the page was taken (by another worker, or the person's previous event)
 *   has deactivated them; a deactivated user in a stale page would plan an activate and only the roles that
 *   differ from the page's, though a rehire since may have set other roles, which would then stay. A page
 *   would be safe only when newer than this pipeline's last write to the person, and the state store does
 *   not know when that was: its marks are event times, and a write whose event then failed records nothing.
 * - An offboard, and the deactivation of a person's previous accounts, always read: absence there plans no
 *   call at all (`nothing to offboard`), and nothing would catch a user created after the page was taken.
 * - A redelivery reads too: its earlier delivery may have created the user, and a page older than that would
 *   keep the event waiting on the unknown-create bound instead of finding the user once it is listed.
 *
 * Completeness is not needed for safety: a user a page misses (offset paging while users are deleted, the
 * list's lag after a create) only costs that 409 and read. The age bound keeps those rare, and replays of
 * completed events never get here (converge-event.ts returns before any read).
 */

/** The most users one page of GET users holds. */
export const DIRECTORY_PAGE_SIZE = 1_000;
/** How long a snapshot of the directory is used: short, so that most of what it misses is still to come. */
export const DEFAULT_DIRECTORY_MAX_AGE_MS = 30_000;
/** Fewer waiting events than this read one user each, as before: a trickle of webhooks pays no page. */
const DEFAULT_MIN_WAITING = 5;
/** A snapshot must be able to save at least this many reads per page it costs. */
const WAITING_PER_PAGE = 2;
/** After a failed page read, per-event reads only for this long: a failing tenant is not asked twice per event. */
const FAILURE_PAUSE_MS = 5_000;
/** A directory that keeps growing while it is read stops being read here (a million users). */
const MAX_PAGES = 1_000;

export type DirectoryPagesOptions = {
  /** Longest age of a snapshot still used, from when its first page was asked for. Default 30 s. */
  maxAgeMs?: number;
  /** Users per page. Default 1,000, the API's largest page. */
  pageSize?: number;
  /** Fewest waiting events (the one asking included) for which pages are read or used. Default 5. */
  minWaiting?: number;
  now?: () => number;
  log?: Log;
};

/** The emails TrueFoundry listed, lower-cased, and when the listing began. */
type Snapshot = { emails: ReadonlySet<string>; takenAtMs: number };

/**
 * This process's recent snapshot of TrueFoundry's directory, read in pages when many events wait. Page reads
 * go through the event's own client, so they count against the shared rate limiter like any call, and one
 * snapshot is read at a time however many events ask at once.
 */
export class DirectoryPages {
  private snapshot: Snapshot | undefined;
  private loading: Promise<Snapshot | undefined> | undefined;
  /** Users the last snapshot counted: how many pages the next one costs. */
  private lastTotal = 0;
  private pausedUntilMs = Number.NEGATIVE_INFINITY;
  private readonly maxAgeMs: number;
  private readonly pageSize: number;
  private readonly minWaiting: number;
  private readonly now: () => number;
  private readonly log: Log;

  constructor(options: DirectoryPagesOptions = {}) {
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_DIRECTORY_MAX_AGE_MS;
    this.pageSize = options.pageSize ?? DIRECTORY_PAGE_SIZE;
    this.minWaiting = options.minWaiting ?? DEFAULT_MIN_WAITING;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? silentLog;
    if (!(this.pageSize >= 1 && this.pageSize <= DIRECTORY_PAGE_SIZE))
      throw new RangeError(`pageSize must be 1 to ${DIRECTORY_PAGE_SIZE}, got ${this.pageSize}`);
  }

  /**
   * True only when `waiting` events make pages worth it and a snapshot at most maxAge old does not list
   * `email`. False means: read the user. Never throws: a failed page read falls back to the event's own read.
   */
  async provesAbsent(email: string, api: UsersApi, waiting: number, options?: CallOptions): Promise<boolean> {
    if (!this.manyWait(waiting)) return false;
    const snapshot = await this.current(api, options);
    return snapshot !== undefined && !snapshot.emails.has(email.toLowerCase());
  }

  /** Whether reading the directory can pay: enough events wait for the pages it would take. */
  private manyWait(waiting: number): boolean {
    const pages = Math.max(1, Math.ceil(this.lastTotal / this.pageSize));
    return waiting >= Math.max(this.minWaiting, WAITING_PER_PAGE * pages);
  }

  private async current(api: UsersApi, options: CallOptions | undefined): Promise<Snapshot | undefined> {
    const nowMs = this.now();
    if (this.snapshot && nowMs - this.snapshot.takenAtMs <= this.maxAgeMs) return this.snapshot;
    if (!this.loading && nowMs < this.pausedUntilMs) return undefined;
    // One listing at a time: the events asking meanwhile wait for it rather than each reading on their own. It
    // runs with the first asker's deadline; should that abort it, the others fall back to their own reads.
    this.loading ??= this.load(api, options).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(api: UsersApi, options: CallOptions | undefined): Promise<Snapshot | undefined> {
    const takenAtMs = this.now();
    const emails = new Set<string>();
    try {
      let offset = 0;
      for (let page = 0; page < MAX_PAGES; page++) {
        const { data, pagination } = await api.list(
          { limit: this.pageSize, offset, showInvalidUsers: true },
          options,
        );
        for (const user of data) emails.add(user.email.toLowerCase());
        offset += data.length;
        // On while the total says more are left: it spares the empty page after a full last one, and a
        // server that caps the page below the limit asked for is read to the end all the same.
        if (data.length === 0 || offset >= pagination.total) break;
      }
      this.lastTotal = emails.size;
      this.snapshot = { emails, takenAtMs };
      this.log.debug('read the TrueFoundry directory in pages', {
        users: emails.size,
        pages: Math.max(1, Math.ceil(offset / this.pageSize)),
      });
      return this.snapshot;
    } catch (error) {
      this.pausedUntilMs = this.now() + FAILURE_PAUSE_MS;
      this.log.warn('reading the TrueFoundry directory in pages failed; reading users one by one', {
        error: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    }
  }
}

/**
 * The users API as one event's run sees it when pages may serve it: the first exact-email read of the event's
 * own account asks the snapshot first, and is not made when the snapshot proves the account absent; a register
 * planned from that absence is sent without skipIfUserExists, so that an account created meanwhile answers 409
 * (handled as `exists`, then read) instead of a silent success. Every other call passes through.
 */
export function pagedUsersApi(
  provider: UsersApiProvider,
  pages: DirectoryPages,
  backlog: Backlog,
  email: string,
): UsersApiProvider {
  const own = email.toLowerCase();
  let consulted = false;
  let absentFromPage = false;
  const isOwn = (address: string) => address.toLowerCase() === own;
  const paged = (api: UsersApi): UsersApi => ({
    async findByEmail(address, options) {
      // Only the first read: after a 409, or in a later round, the event needs TrueFoundry's answer itself.
      if (consulted || !isOwn(address)) return api.findByEmail(address, options);
      consulted = true;
      absentFromPage = await pages.provesAbsent(own, api, backlog.waiting(), options);
      return absentFromPage ? undefined : api.findByEmail(address, options);
    },
    preRegister: (body, options) =>
      api.preRegister(
        absentFromPage && isOwn(body.email) ? { ...body, skipIfUserExists: false } : body,
        options,
      ),
    list: (params, options) => api.list(params, options),
    invite: (body, options) => api.invite(body, options),
    updateRoles: (body, options) => api.updateRoles(body, options),
    activate: (body, options) => api.activate(body, options),
    deactivate: (body, options) => api.deactivate(body, options),
    delete: (id, params, options) => api.delete(id, params, options),
  });
  return {
    get: async () => paged(await provider.get()),
    refresh: async () => paged(await provider.refresh()),
  };
}

/**
 * The deps one delivery of `event` runs with: pages may serve the first read of its own account when the
 * runtime wired pages and a backlog, the event provisions that account (not an offboard), and this is its
 * first delivery. Otherwise the deps as they are: one read per account, as before.
 */
export function withDirectoryPages<
  D extends { api: UsersApiProvider; directory?: DirectoryPages; backlog?: Backlog },
>(deps: D, event: CanonicalEvent, attempt: number): D {
  if (!deps.directory || !deps.backlog || event.type === 'offboard' || attempt > 1) return deps;
  return { ...deps, api: pagedUsersApi(deps.api, deps.directory, deps.backlog, event.employee.email) };
}
