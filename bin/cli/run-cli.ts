import { commandWordsOf } from './arguments';
import { type CliContext, CliError, type CliIo, contextOf, EXIT_FAILURE, EXIT_OK } from './cli-io';
import { batchCommand } from './commands/batch';
import { dlqCommand } from './commands/dlq';
import { eventsCommand } from './commands/events';
import { forgetCommand } from './commands/forget';
import { sendCommand } from './commands/send';
import { statusCommand } from './commands/status';
import { writeLines } from './output';

type Command = (argv: string[], ctx: CliContext) => Promise<number>;

const COMMANDS: Record<CommandName, Command> = {
  send: sendCommand,
  batch: batchCommand,
  status: statusCommand,
  events: eventsCommand,
  dlq: dlqCommand,
  forget: forgetCommand,
};

const isCommand = (word: string): word is CommandName => Object.hasOwn(COMMANDS, word);

/**
 * The whole CLI as a function: arguments and I/O in, exit code out. `main.ts` hands it the process; tests
 * hand it buffers and a runtime on a random port.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const ctx = contextOf(io);
  try {
    const { words, help } = commandWordsOf(argv);
    const [word, topic] = words;
    if (word === undefined || word === 'help') {
      const usage = topic !== undefined && isCommand(topic) ? commandUsage(topic) : fullUsage();
      (word === undefined && !help ? ctx.stderr : ctx.stdout).write(usage);
      return word === undefined && !help ? EXIT_FAILURE : EXIT_OK;
    }
    if (!isCommand(word)) {
      throw new CliError(
        `unknown command "${word}"; the commands are ${Object.keys(COMMANDS).join(', ')} (see: hr-provisioning help)`,
      );
    }
    if (help) {
      ctx.stdout.write(commandUsage(word));
      return EXIT_OK;
    }
    return await COMMANDS[word]([...argv], ctx);
  } catch (error) {
    if (error instanceof CliError) {
      writeLines(ctx.stderr, [`error: ${error.message}`]);
      return error.exitCode;
    }
    // A bug, not an operator mistake: the stack helps whoever fixes it.
    writeLines(ctx.stderr, [
      `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    ]);
    return EXIT_FAILURE;
  }
}

/** Help texts: one per command, shown by `<command> --help`, all of them by `help`. */
const COMMAND_USAGE = {
  send: `send <file>
    Sends canonical events from a JSON file (one event, an array, or {"events": [...]}) or a JSON Lines
    file (one event per line) to POST /events, in requests of at most 500 events and 1 MiB.
    Prints each event's id and status; invalid events are named by their line in the file.
    example: hr-provisioning send samples/events.jsonl`,
  batch: `batch <file.csv|file.jsonl> [--strict] [--chunk-rows N] [--restart]
    Uploads a batch onboarding file of any size to POST /batch in chunks of N rows (default 500), under
    one batch id, with a progress bar. An interrupted upload continues where it stopped when run again
    (progress is kept in <file>.progress.json); --restart starts it over.
    --strict  check the whole file first and send nothing if any row is invalid
    Exit code 0: every row accepted; 2: some rows rejected (listed with their line); 1: error.
    example: hr-provisioning batch people.csv --chunk-rows 1000`,
  status: `status <event-id> [--json]
    Shows one event: its status, then every TrueFoundry call made for it, then its error.
    example: hr-provisioning status evt-0001`,
  events: `events [--status queued|running|succeeded|superseded|failed] [--limit N] [--json]
    Lists events (the first 50 unless --limit says otherwise), following the API's pages.
    example: hr-provisioning events --status failed`,
  dlq: `dlq list [--max N] [--json]
dlq redrive [--id <event-id> ...]
    Lists the dead-letter queue, or sends its messages (all, or the given events) back to be processed.
    Local runtime: through its /dlq routes. AWS: straight to SQS when --queue-url and --dlq-url (or
    HRP_QUEUE_URL and HRP_DLQ_URL) name the main FIFO queue and its dead-letter queue.
    example: hr-provisioning dlq redrive --id evt-0042
    example: hr-provisioning dlq list --dlq-url https://sqs.eu-west-1.amazonaws.com/123456789012/hrp-dlq.fifo`,
  forget: `forget --employee <id> | --email <address> [--dlq-url <url>] [--json]
    Erases a person for good: their events, ledger steps, person records and email links, and (local
    runtime) their queued messages and dead letters; one audit line remains, naming them by a digest only.
    Refused while an event of theirs is queued or running. On AWS, --dlq-url (or HRP_DLQ_URL) also deletes
    their messages from the SQS dead-letter queue. The call is IAM-signed on AWS, as reads are.
    example: hr-provisioning forget --employee E1001`,
} as const;

type CommandName = keyof typeof COMMAND_USAGE;

const GLOBAL_USAGE = `global options
  --url <url>        the API: HRP_URL, else the local runtime http://127.0.0.1:\${PORT or 8787}
                     (on AWS: https://<id>.execute-api.<region>.amazonaws.com/v1; reads are SigV4-signed
                     with the default AWS credentials)
  --token <token>    the ingest token: INGEST_TOKEN, else (local runtime) <data dir>/secrets.json
  --data-dir <dir>   the local runtime's data: DATA_DIR, else .data
  --region <region>  AWS region, when the URL does not say it
  -h, --help         this help; <command> --help for one command`;

function fullUsage(): string {
  const commands = Object.values(COMMAND_USAGE)
    .map((text) => `  ${text.replaceAll('\n', '\n  ')}`)
    .join('\n\n');
  return `hr-provisioning: operate the HR → TrueFoundry provisioning pipeline

usage: hr-provisioning <command> [options]

commands
${commands}

${GLOBAL_USAGE}
`;
}

function commandUsage(command: CommandName): string {
  return `usage: hr-provisioning ${COMMAND_USAGE[command]}\n\n${GLOBAL_USAGE}\n`;
}
