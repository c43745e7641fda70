import { commandWordsOf } from './arguments';
import { CliError, EXIT_FAILURE, EXIT_OK } from './cli-error';
import { type CliContext, type CliIo, contextOf, writeLines } from './cli-io';
import { batchCommand } from './commands/batch';
import { dlqCommand } from './commands/dlq';
import { eventsCommand } from './commands/events';
import { forgetCommand } from './commands/forget';
import { sendCommand } from './commands/send';
import { statusCommand } from './commands/status';
import { type CommandName, commandUsage, fullUsage } from './usage';

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
