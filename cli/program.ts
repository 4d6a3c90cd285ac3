import { Command, CommanderError } from 'commander';
import { z } from 'zod';
import { registerDeployCommands } from './commands/deploy';
import { registerEventsCommands } from './commands/events';
import { registerFleetCommand } from './commands/fleet';
import { registerIncidentCommands } from './commands/incident';
import { registerReadinessCommands } from './commands/readiness';
import { registerReleaseCommands } from './commands/release';
import { registerScheduleCommands } from './commands/schedules';
import { registerSetupCommand } from './commands/setup';
import { registerWorkflowCommands } from './commands/workflows';
import { CommandContext, type GlobalOptions } from './context';
import { CliError, ExitCode, toCliError, type ExitCodeValue } from './errors';
import type { CliIo } from './io';
import { parseArg } from './validation';

export type CommandHandler = (ctx: CommandContext, cmd: Command) => Promise<void>;
/** Wraps a handler as a commander action: builds the run's context from the global options. */
export type CommandRunner = (handler: CommandHandler) => (...args: unknown[]) => Promise<void>;

interface RawGlobals {
  json?: boolean;
  address?: string;
  namespace?: string;
  config?: string;
  timeout: string;
}

const timeoutSchema = z.coerce.number().positive().max(3600);

export function buildProgram(io: CliIo, onContext: (ctx: CommandContext) => void): Command {
  const program = new Command('fleetops')
    .description('Operate fleetops workflows: status, list, deploys (now or scheduled), releases, schedules, incidents, readiness windows, the fleet, pause/resume/abort, setup, the events dead-letter queue.')
    .option('--json', 'print one JSON document instead of text')
    .option('--address <host:port>', 'Temporal frontend (default: env, config, .run/stack.json, 127.0.0.1:7233)')
    .option('--namespace <namespace>', 'Temporal namespace (default: env, config, .run/stack.json, default)')
    .option('--config <path>', 'fleetops.yaml to read the Temporal address from (default: FLEETOPS_CONFIG)')
    .option('--timeout <seconds>', 'how long to wait for a workflow to answer', '10')
    // Set before the subcommands are added, so every one of them inherits it.
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: (s, write) => write(`fleetops: ${s}`),
    })
    .showHelpAfterError('(add --help for usage)')
    .allowExcessArguments(false);

  const run: CommandRunner =
    (handler) =>
    async (...args) => {
      const cmd = args[args.length - 1] as Command;
      const raw = cmd.optsWithGlobals<RawGlobals>();
      const options: GlobalOptions = {
        json: raw.json,
        address: raw.address,
        namespace: raw.namespace,
        config: raw.config,
        timeout: 10,
      };
      const ctx = new CommandContext(io, options);
      onContext(ctx);
      options.timeout = parseArg(timeoutSchema, raw.timeout, '--timeout');
      await handler(ctx, cmd);
    };

  registerWorkflowCommands(program, run);
  registerDeployCommands(program, run);
  registerReleaseCommands(program, run);
  registerScheduleCommands(program, run);
  registerReadinessCommands(program, run);
  registerFleetCommand(program, run);
  registerIncidentCommands(program, run);
  registerSetupCommand(program, run);
  registerEventsCommands(program, run);
  return program;
}

/** Runs one CLI invocation (argv without node and script) and returns its exit code; never calls process.exit. */
export async function runCli(argv: string[], io: CliIo): Promise<ExitCodeValue> {
  let ctx: CommandContext | undefined;
  const program = buildProgram(io, (c) => (ctx = c));
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return ExitCode.Usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    return ExitCode.Ok;
  } catch (err) {
    // Commander has already printed its message (unknown option, missing argument, ...) or the help.
    if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    const known: CliError | undefined = toCliError(err, ctx?.workflowId);
    if (!known) {
      io.stderr(`fleetops: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      return ExitCode.Failed;
    }
    if (ctx?.json) io.stderr(`${JSON.stringify({ error: known.message, exitCode: known.exitCode, ...known.details })}\n`);
    else io.stderr(`fleetops: ${known.message}\n`);
    return known.exitCode;
  } finally {
    await ctx?.close();
  }
}
