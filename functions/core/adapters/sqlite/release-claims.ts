import type Database from 'better-sqlite3';

/**
 * Ends the lease of every claim that is not done. Only for a process that is the sole worker of this file
 * and has just started: any live claim then belongs to a process that died mid-step, and waiting out its
 * lease would only delay the redelivered events. The claims stay, as outcomes unknown: a step safe to repeat
 * is claimed again at once, while a create waits for its account to appear (or for its bound), since the
 * process may have died after TrueFoundry acted.
 */
export function releaseAbandonedClaims(db: Database.Database): number {
  return db.prepare("UPDATE step_ledger SET owner = '', lease_until_ms = 0 WHERE state = 'claimed'").run()
    .changes;
}
