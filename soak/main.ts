import { setMaxListeners } from 'node:events';
import { formatReport } from './report';
import { runSoak } from './run';
import { type SoakSettings, soakSettingsFrom } from './settings';

/*
 * `npm run soak [-- --target emulate] [--seed N] [--short]`: the soak of issue 14. Prints the seed first,
 * the summary table last; exits 1 on any violation, 2 when it cannot run.
 */

// The AWS SDK warns on Node 20 that its 2027 releases need Node 22; the soak reads the emulated SQS with it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// The sandbox runs in this process, and every request it holds for latency listens on its one closing
// signal: with the pipeline's 16 workers that passes Node's default of 10 and prints a leak warning.
setMaxListeners(256);

async function main(): Promise<number> {
  let settings: SoakSettings;
  try {
    settings = soakSettingsFrom(process.argv.slice(2), process.env);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const result = await runSoak(settings, (line) => console.log(line));
  console.log(`\n${formatReport(result)}`);
  if (result.violations.length === 0) return 0;
  console.log(`\n${result.violations.length} violation(s); replay with SOAK_SEED=${settings.seed}`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      `soak could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(2);
  },
);
