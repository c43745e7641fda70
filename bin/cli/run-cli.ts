import { commandWordsOf } from './arguments';
import { type CliContext, CliError, type CliIo, contextOf, EXIT_FAILURE, EXIT_OK } from './cli-io';
import { batchCommand } from './commands/batch';
import { cancelCommand } from './commands/cancel';
import { dlqCommand } from './commands/dlq';
import { eventsCommand } from './commands/events';
import { forgetCommand } from './commands/forget';
import { holdsCommand } from './commands/holds';
import { reconcileCommand } from './commands/reconcile';
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
  holds: holdsCommand,
  reconcile: reconcileCommand,
  cancel: cancelCommand,
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
  batch: `batch <file.csv|file.jsonl> [--strict] [--chunk-rows N] [--restart] [--dry-run [--json]]
    Uploads a batch onboarding file of any size to POST /batch in chunks of N rows (default 500), under
    one batch id, with a progress bar. An interrupted upload continues where it stopped when run again
    (progress is kept in <file>.progress.json); --restart starts it over.
    --strict  check the whole file first and send nothing if any row is invalid
    --dry-run  preview instead: what the worker would write to TrueFoundry for each row (a table of
               line, id, email, actions, note, then a summary), planned against TrueFoundry as it is now;
               nothing is recorded, queued or written (chunks of at most 200 rows; --json: the API's JSON)
    Exit code 0: every row accepted; 2: some rows rejected (listed with their line); 1: error.
    example: hr-provisioning batch people.csv --chunk-rows 1000
    example: hr-provisioning batch people.csv --dry-run`,
  status: `status <event-id> [--json]
    Shows one event: its status, then every TrueFoundry call made for it, then its error.
    example: hr-provisioning status evt-0001`,
  events: `events [--status queued|running|succeeded|superseded|failed|held|scheduled|cancelled] [--limit N] [--json]
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
  holds: `holds list [--json]
holds release --all | --id <event-id> ... [--json]
holds reject --id <event-id> ... [--json]
    The offboarding guard's held events: offboards beyond OFFBOARD_GUARD_MAX deactivations within
    OFFBOARD_GUARD_WINDOW_MINUTES, and every later event of their person, held behind them in order.
    list     id, type, person, email, when it occurred, when it was held, and why
    release  back to the queue, per person in acceptance order; admitted without counting against the
             limit. An event behind an earlier held event of its person is released only with it
    reject   the event ends failed, "rejected by an operator", with no call; the person's later held
             events stay held until released or rejected
    Exit code 1 when an id was not held, was blocked or could not be enqueued again.
    example: hr-provisioning holds release --all`,
  reconcile: `reconcile <roster.csv> [--apply] [--json]
    Compares a roster (CSV, the batch columns; type may be left out) of everyone who should have access with
    TrueFoundry, through POST /reconcile on the runtime or stack targeted: who is missing (or deactivated),
    which active accounts are orphans, whose roles drifted; RECONCILE_IGNORE's accounts are only listed.
    --apply  also submit the events that converge: hires, role changes, offboards (the offboarding guard
             applies to them); nothing is submitted if any row is invalid
    --json   print the report as JSON
    example: hr-provisioning reconcile roster.csv --apply`,
  cancel: `cancel <event-id> [--json]
    Cancels an event that has not run: one scheduled for its effective time (effectiveAt, effective_at),
    or one held by the offboarding guard. It ends cancelled, with no TrueFoundry call. An event that ran,
    or waits in the queue, cannot be cancelled: the command says its status and exits 1.
    Scheduled events: hr-provisioning events --status scheduled.
    example: hr-provisioning cancel evt-0042`,
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
