import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';

/** Owner only: the data directory holds people's emails and names, and the ingest secrets. */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** What was done to a path that was readable by others: the runtime says so once, at start. */
export type Tightened =
  | { path: string; from: number; to: number }
  | { path: string; from: number; failed: string };

/**
 * Creates the directory owner-only, or tightens one that exists with group or other bits: it is this
 * runtime's data, and a path another local user can list is one whose files they may read. A directory
 * this user may not chmod (someone else's) is reported, not fixed.
 */
export function ensurePrivateDir(path: string): Tightened | undefined {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
  return tighten(path, PRIVATE_DIR_MODE);
}

/** Creates the file (empty) owner-only when missing, or tightens it; an absent optional file is left absent. */
export function ensurePrivateFile(path: string, create = true): Tightened | undefined {
  if (!existsSync(path)) {
    if (!create) return undefined;
    closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  }
  return tighten(path, PRIVATE_FILE_MODE);
}

function tighten(path: string, mode: number): Tightened | undefined {
  const from = statSync(path).mode & 0o777;
  if ((from & ~mode) === 0) return undefined;
  try {
    chmodSync(path, from & mode);
    return { path, from, to: from & mode };
  } catch (error) {
    return { path, from, failed: (error as Error).message };
  }
}

/** `0755` */
export const octal = (mode: number): string => `0${mode.toString(8)}`;
