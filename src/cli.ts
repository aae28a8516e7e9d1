/**
 * The commander program. Each command parses its flags and calls one function that returns an
 * exit code; nothing here exits the process.
 *
 * Only the command being run is loaded: the others are listed by name and description, so
 * `rolling-restart status` never imports the roller, pino or the UDP listener of `restart`.
 */
import { Command } from 'commander'
import { COMMANDS, DEFAULT_COMMAND, type CommandSpec } from './cli-commands.js'
import { suggest } from './cli-suggest.js'
import { EXIT, UsageError } from './errors.js'
import { packageVersion } from './version.js'

export interface RunContext {
  /** aborted when rolling-restart itself gets SIGINT / SIGTERM */
  interrupt: AbortSignal
  /** the exit code of the command that ran */
  code: number
}

const EXIT_CODES_HELP = `
Exit codes:
  0    every selected worker replaced and ready (or nothing selected)
  1    internal error
  2    bad usage or input
  3    target not found or not permitted (no such group, stale pidfile, cannot signal)
  4    a step failed: stopped, the group is now in error-resistance mode
  5    refused: the group is in error-resistance mode, another run holds its lock,
       or another run listens on the readiness port
  6    doctor: a hazard of severity error was found
  7    the master replaced its workers on its own during the run (HUP, USR2, a
       graceful reload): stopped, not error-resistance mode; run again
  130  interrupted (SIGINT / SIGTERM): no further worker was touched
`

/** The command that argv asks for: its first word when that names one, else the default (restart). */
export function invokedCommand(argv: readonly string[]): string {
  const first = argv[0]
  if (first === undefined || first.startsWith('-')) return DEFAULT_COMMAND
  if (first === 'help') return argv[1] !== undefined && COMMANDS.some((c) => c.name === argv[1]) ? argv[1] : 'help'
  if (COMMANDS.some((c) => c.name === first)) return first
  const names = COMMANDS.map((c) => c.name)
  const close = suggest(first, names)
  throw new UsageError(
    `unknown command '${first}'` + (close ? ` (did you mean '${close}'?)` : '') + `; the commands are: ${names.join(', ')}. See rolling-restart --help`,
    'unknown-command',
  )
}

/**
 * The command whose options and action must be loaded for argv: none for a help flag given before
 * any command word (commander prints the program's own help then, without asking the default
 * command), else the one argv asks for.
 */
export function commandToLoad(argv: readonly string[]): string {
  const first = argv[0]
  const noCommand = first === undefined || first.startsWith('-')
  return noCommand && (argv.includes('--help') || argv.includes('-h')) ? 'help' : invokedCommand(argv)
}

/**
 * The program with every command listed, and `full` of them (by name) given their options and
 * action. `full: 'all'` loads every command (for shell completion).
 */
export async function buildProgram(ctx: RunContext, full: string | 'all'): Promise<Command> {
  const program = new Command('rolling-restart')
    .description('Restart the workers of a running Gunicorn, Uvicorn, Apache mod_wsgi or uWSGI server one at a time, each gated on a readiness datagram from the new worker.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // commander's own errors in the tool's own words: `rolling-restart: unknown option '--grup' ...`
      outputError: (s, write) => write(s.replace(/^error: /, 'rolling-restart: ')),
    })
  for (const spec of COMMANDS) {
    const cmd = program.command(spec.name, spec.name === DEFAULT_COMMAND ? { isDefault: true } : {}).description(spec.description)
    if (full === 'all' || full === spec.name) await define(cmd, spec, ctx)
  }
  return program
}

async function define(cmd: Command, spec: CommandSpec, ctx: RunContext): Promise<void> {
  const run = await spec.load()
  run.options(cmd)
  cmd.action(async (...args: unknown[]) => {
    ctx.code = await run.action(args, ctx.interrupt)
  })
}

export { EXIT }
