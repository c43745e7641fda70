import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchModule, BenchResult } from './figure';

/*
 * One bench module in a process of its own, as the runner (bench/run.ts) starts it:
 * `node --import tsx bench/run-module.ts <module file> <result file>`. Its own process, so that no module sees
 * another's memory, mocked AWS clients, environment or leftover timers. Writes the result, or the error, as
 * JSON to the result file and exits, whatever handles the module left open.
 */

export type ModuleOutput = { name: string; result?: BenchResult; error?: string };

export function isBenchModule(value: unknown): value is BenchModule {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.name === 'string' && typeof candidate.run === 'function';
}

async function main(): Promise<void> {
  const [file, out] = process.argv.slice(2);
  if (!file || !out) throw new Error('usage: run-module.ts <module file> <result file>');
  const write = (output: ModuleOutput) => writeFileSync(out, JSON.stringify(output));
  let output: ModuleOutput;
  try {
    const exports = (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
    const module = Object.values(exports).find(isBenchModule);
    if (!module) {
      output = { name: file, error: `${file} exports no BenchModule ({ name, run })` };
    } else {
      try {
        output = { name: module.name, result: await module.run() };
      } catch (error) {
        output = { name: module.name, error: describe(error) };
      }
    }
  } catch (error) {
    output = { name: file, error: `cannot load ${file}: ${describe(error)}` };
  }
  write(output);
  process.exit(0);
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
