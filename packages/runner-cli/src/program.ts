import { Command, CommanderError, InvalidArgumentError as CommanderArgumentError, Option } from 'commander';
import { exitCodeOf, isTickworkError, prefixed, type TickworkConfig } from '@tickwork/core';
import { SKIP_REASONS } from '@tickwork/core/store';
import { EXIT, PREFIX } from './errors.js';
import { processIo, type CliIo } from './io.js';
import type { ScheduleSetFlags } from './schedule-definition.js';
import { createSession, type Session } from './session.js';

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** Default: the real process. */
  io?: CliIo;
  /** Use this config instead of loading a file (embedding, tests). */
  config?: TickworkConfig;
}

/** The exit code an error maps to (see {@link EXIT}): the one the error class carries, read through core's registered symbol. */
export { exitCodeOf };

/** `--dir` given to the subcommand, or to `dashboard` before it (commander hands a parent's option to the parent). */
function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CommanderArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

/**
 * Runs the `tickwork` command line (`argv` without node and script) and resolves to the
 * exit code. Each command's module is imported only when that command runs: the CLI is
 * spawned every minute, so `tickwork run` must not pay for `doctor` or `crontab`.
 */
export async function runCli(argv: readonly string[], options: RunCliOptions = {}): Promise<number> {
  const io = options.io ?? processIo();
  let session: Session | undefined;
  let code: number = EXIT.ok;
  const open = (command: Command): Session => {
    const configPath = (command.optsWithGlobals() as { config?: string }).config;
    session = createSession({
      io,
      ...(configPath !== undefined ? { configPath } : {}),
      ...(options.config ? { config: options.config } : {}),
    });
    return session;
  };

  const program = new Command('tickwork')
    .description('Periodic jobs for Node apps: one tick for system cron, plus management commands.')
    .option('-c, --config <path>', 'config file (default: tickwork.config.{ts,mts,js,mjs} from the cwd upward)')
    .exitOverride()
    .showHelpAfterError(true)
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) })
    .allowExcessArguments(false);

  program
    .command('run')
    .description('run what is due now (or the named jobs) once, then exit')
    .argument('[codes...]', 'only these jobs')
    .option('--force', 'run the selected jobs now whatever their schedule (still once per slot, no overlap)')
    .option('--dry-run', 'show what would run; claim and change nothing')
    .option('--silent', 'print nothing unless a job failed')
    .option('--json', 'print the tick report as JSON')
    .action(async (codes: string[], opts: { force?: boolean; dryRun?: boolean; silent?: boolean; json?: boolean }, command: Command) => {
      const { runCommand } = await import('./commands/run.js');
      code = await runCommand(open(command), codes, opts);
    });

  program
    .command('list')
    .description('every job: schedule, next and last run, paused, failures, runtime schedule count')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const { listCommand } = await import('./commands/list.js');
      code = await listCommand(open(command), opts);
    });

  program
    .command('logs')
    .description('the run history, newest last')
    .argument('[code]', 'only this job')
    .option('--status <status>', 'only runs with this status (comma-separated for several)')
    .option('--reason <reason>', `only skipped slots with this reason (comma-separated for several: ${SKIP_REASONS.join(', ')})`)
    .option('--since <time>', 'only runs started since an ISO instant or a duration ago (e.g. 2h, 30m, 7d)')
    .option('--key <key>', "only runs of this runtime schedule ('' for the jobs' own schedules)")
    .option('--limit <n>', 'at most this many runs', positiveInt, 20)
    .option('-f, --follow', 'keep printing new runs until interrupted')
    .option('--json', 'print JSON (with --follow: one run per line)')
    .action(
      async (
        jobCode: string | undefined,
        opts: { status?: string; reason?: string; since?: string; key?: string; limit: number; follow?: boolean; json?: boolean },
        command: Command,
      ) => {
        const { logsCommand } = await import('./commands/logs.js');
        code = await logsCommand(open(command), jobCode, opts);
      },
    );

  for (const action of ['pause', 'resume', 'trigger'] as const) {
    const sub = program
      .command(action)
      .description(
        action === 'pause'
          ? 'pause a job (its slots are not run until resumed)'
          : action === 'resume'
            ? 'resume a paused job (slots missed while paused are not caught up)'
            : 'ask the runners to run a job now (or one of its runtime schedules, with --key)',
      )
      .argument('<code>', 'job code');
    if (action === 'pause') sub.option('--note <text>', 'why it is paused (shown by list)');
    if (action === 'trigger') sub.option('--key <key>', 'run this runtime schedule of the job (with its payload)');
    sub.action(async (jobCode: string, opts: { note?: string; key?: string }, command: Command) => {
      const { stateCommand } = await import('./commands/state.js');
      code = await stateCommand(open(command), action, jobCode, opts);
    });
  }

  program
    .command('runners')
    .description('the runners the store knows: id, alive or dead, started, last heartbeat, clock offset, connection')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const { runnersCommand } = await import('./commands/runners.js');
      code = await runnersCommand(open(command), opts);
    });

  program
    .command('schedules')
    .description("a job's runtime schedules: schedule, timezone, enabled, paused, next run, payload")
    .argument('<code>', 'job code')
    .option('--limit <n>', 'at most this many schedules (default: all, read page by page)', positiveInt)
    .option('--json', 'print JSON')
    .action(async (jobCode: string, opts: { limit?: number; json?: boolean }, command: Command) => {
      const { schedulesCommand } = await import('./commands/schedules.js');
      code = await schedulesCommand(open(command), jobCode, opts);
    });

  const schedule = program.command('schedule').description("create, change, remove, pause and resume a job's runtime schedules");
  schedule
    .command('set')
    .description(
      'create or replace a runtime schedule. The whole definition is replaced: options left out take their ' +
        "defaults (enabled, no payload, no start or expiry, the job's timeout/retry/jitter/…). Give exactly one of --cron, --every, --at, --daily",
    )
    .argument('<code>', 'job code')
    .argument('<key>', 'schedule key, unique within the job: letters, digits and . _ : - @ / + = #')
    .option('--cron <expr>', 'cron expression: 5 fields, 6 with seconds first, 7 with a year last; L, W, #, ?, + and H allowed')
    .option('--every <duration>', 'every interval of absolute time, e.g. 90s, 5m, 1h30m')
    .option('--at <instant>', 'once, at an ISO instant with an offset, e.g. 2026-01-05T10:00:00Z')
    .option('--daily <times>', 'every day at local times HH:MM[,HH:MM…]')
    .option('--tz <zone>', "IANA timezone for --cron and --daily (default: the job's, else the config's)")
    .option('--payload <json>', 'JSON handed to the handler as ctx.payload (at most 64 KiB)')
    .option('--disabled', 'store it disabled: kept, never run')
    .option('--start-at <instant>', 'no slot before this ISO instant')
    .option('--expires-at <instant>', 'no slot after this ISO instant')
    .option('--description <text>', 'shown instead of the job description')
    .option('--timeout <duration>', "the job's timeout for this schedule")
    .option('--retry-after-failure <duration>', "the job's retry delay for this schedule")
    .option('--jitter <duration>', "the job's jitter for this schedule")
    .option('--lease-ttl <duration>', "the job's lease TTL for this schedule")
    .option('--allow-parallel-runs', 'let runs of this schedule overlap')
    .option('--overlap-policy <policy>', 'when the previous run still runs: skip, bufferOne, bufferAll, cancelOther or allowAll')
    .option('--missed-run-policy <policy>', 'latest, skip or all:DURATION (backfill window)')
    .option('--max-runs <n>', 'end the schedule after n scheduled runs (retries and run-now requests do not count)')
    .option(
      '--dst <policy>',
      'what --cron/--daily do with local times a DST change skips or repeats: gap=next-instant|shift|skip and/or overlap=first|last|both, e.g. gap=shift,overlap=last',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  tickwork schedule set reports acme --daily 06:00 --tz Europe/Paris --payload '{"tenant":"acme"}'
  tickwork schedule set reports globex --cron '0 7 * * 1-5' --timeout 10m
  tickwork schedule set reports initech --cron '30 2 * * *' --tz America/New_York --dst gap=shift,overlap=last
  tickwork schedule set reminders user-42 --at 2026-03-01T09:00:00+01:00 --payload '{"user":42}'`,
    )
    .action(async (jobCode: string, key: string, opts: ScheduleSetFlags, command: Command) => {
      const { scheduleSetCommand } = await import('./commands/schedule.js');
      code = await scheduleSetCommand(open(command), jobCode, key, opts);
    });
  schedule
    .command('rm')
    .description('remove a runtime schedule (a run already started finishes and is logged)')
    .argument('<code>', 'job code')
    .argument('<key>', 'schedule key')
    .action(async (jobCode: string, key: string, _opts: object, command: Command) => {
      const { scheduleRemoveCommand } = await import('./commands/schedule.js');
      code = await scheduleRemoveCommand(open(command), jobCode, key);
    });
  for (const action of ['pause', 'resume'] as const) {
    const sub = schedule
      .command(action)
      .description(
        action === 'pause' ? 'pause a runtime schedule' : 'resume a runtime schedule (slots missed while paused are not caught up)',
      )
      .argument('<code>', 'job code')
      .argument('<key>', 'schedule key');
    if (action === 'pause') sub.option('--note <text>', 'why it is paused (shown by schedules)');
    sub.action(async (jobCode: string, key: string, opts: { note?: string }, command: Command) => {
      const { schedulePauseCommand } = await import('./commands/schedule.js');
      code = await schedulePauseCommand(open(command), action, jobCode, key, opts);
    });
  }

  program
    .command('prune')
    .description('delete finished runs older than the retention')
    .option('--older-than <duration>', 'age of the runs to delete, e.g. 30d (default: config retention)')
    .action(async (opts: { olderThan?: string }, command: Command) => {
      const { pruneCommand } = await import('./commands/prune.js');
      code = await pruneCommand(open(command), opts);
    });

  program
    .command('migrate')
    .description("create or upgrade the store's tables")
    .action(async (_opts: object, command: Command) => {
      const { migrateCommand } = await import('./commands/migrate.js');
      code = await migrateCommand(open(command));
    });

  program
    .command('doctor')
    .description('check config, store, schema, clock skew and timezone data')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const { doctorCommand } = await import('./commands/doctor.js');
      code = await doctorCommand(open(command), opts);
    });

  program
    .command('crontab')
    .description('print a crontab line, a systemd timer and a Kubernetes CronJob that call `tickwork run` every minute')
    .addOption(new Option('--node <path>', 'node binary').default(process.execPath, 'this node'))
    .action(async (opts: { node: string }, command: Command) => {
      const { crontabCommand } = await import('./commands/crontab.js');
      code = await crontabCommand(open(command), opts);
    });

  program
    .command('daemon')
    .description('run the resident runner (needs @tickwork/runner-daemon)')
    .option('--port <n>', 'HTTP port for /healthz and /metrics', positiveInt)
    .option('--dashboard <port>', 'also serve the web dashboard on this port (needs @tickwork/dashboard)', positiveInt)
    .option('--dashboard-host <host>', 'address the dashboard listens on (default 127.0.0.1)')
    .action(async (opts: { port?: number; dashboard?: number; dashboardHost?: string }, command: Command) => {
      const { daemonCommand } = await import('./commands/daemon.js');
      code = await daemonCommand(open(command), opts);
    });

  const dashboard = program
    .command('dashboard')
    .description('serve the web dashboard (needs @tickwork/dashboard); `dashboard token …` manages its access tokens')
    .option('--port <n>', 'HTTP port', positiveInt, 4000)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (opts: { port: number; host: string }, command: Command) => {
      const { dashboardCommand } = await import('./commands/dashboard.js');
      code = await dashboardCommand(open(command), opts);
    });
  const token = dashboard.command('token').description("the dashboard's access tokens (kept hashed in the configured store)");
  token
    .command('create')
    .description('create a token and print it (shown only once)')
    .requiredOption('--role <role>', 'viewer (read), operator (pause/resume/trigger) or admin (schedules, tokens)')
    .option('--name <text>', 'who or what it is for (shown in the audit log)')
    .option('--expires-in <duration>', 'e.g. 30d, 12h (default: never)')
    .option('--json', 'print JSON')
    .action(async (opts: { role: string; name?: string; expiresIn?: string; json?: boolean }, command: Command) => {
      const { tokenCommand } = await import('./commands/dashboard.js');
      code = await tokenCommand(open(command), 'create', opts);
    });
  token
    .command('list')
    .description('list tokens (ids, roles, names, expiry; never the secrets)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const { tokenCommand } = await import('./commands/dashboard.js');
      code = await tokenCommand(open(command), 'list', opts);
    });
  token
    .command('revoke')
    .description('revoke a token; its sessions end at their next request')
    .argument('<id>', 'token id (from token list)')
    .action(async (id: string, _opts: object, command: Command) => {
      const { tokenCommand } = await import('./commands/dashboard.js');
      code = await tokenCommand(open(command), 'revoke', { id });
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Asked-for help and version are successes; every other commander error (bare `tickwork` included) is a usage error.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    io.stderr.write(`${messageOf(error)}\n`);
    return exitCodeOf(error);
  } finally {
    await session?.close();
  }
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return `${PREFIX} unexpected error: ${String(error)}`;
  const text = prefixed('runner-cli', error.message);
  // An unexpected error is a bug somewhere: the stack is what the user will need to report it.
  return isTickworkError(error) ? text : `${text}\n${error.stack ?? ''}`;
}
