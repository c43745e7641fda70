import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchModule } from './figure';
import { formatConsoleTable } from './report';

/**
 * Lets a bench module file also run alone (`npx tsx bench/<file>.ts`): when that file is the script node
 * was started with, runs the module and prints its figures as the table `npm run bench` prints. Imported by
 * the runner, it does nothing. It measures and does not gate: a missed target exits 0, a crash exits 1.
 */
export function runWhenMain(moduleUrl: string, module: BenchModule): void {
  const script = process.argv[1];
  if (script === undefined || pathToFileURL(resolve(script)).href !== moduleUrl) return;
  const started = performance.now();
  module
    .run()
    .then((result) => {
      const durationMs = performance.now() - started;
      console.log(`\n${formatConsoleTable([{ name: module.name, file: script, durationMs, result }])}`);
      process.exit(0);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
