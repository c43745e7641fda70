import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CliError } from './cli-error';

/** A file named on the command line, read whole; a failure names the file and says why in words. */
export async function readInputFile(
  name: string,
  cwd: string,
): Promise<{ path: string; bytes: Buffer; mtimeMs: number }> {
  const path = resolve(cwd, name);
  try {
    const stats = await stat(path);
    if (stats.isDirectory()) throw new CliError(`${name} is a directory; name a file`);
    return { path, bytes: await readFile(path), mtimeMs: stats.mtimeMs };
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read ${name}: ${reasonOf(error)}`);
  }
}

function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}
