import type Database from 'better-sqlite3';

/**
 * Gives back every claim that is not done. Only for a process that is the sole worker of this file and
 * has just started: any live claim then belongs to a process that died mid-step, and waiting out its
 * lease would only delay the redelivered events. The steps are re-planned from TrueFoundry's state.
 */
export function releaseAbandonedClaims(db: Database.Database): number {
  return db.prepare("DELETE FROM step_ledger WHERE state = 'claimed'").run().changes;
}
