/**
 * The commander program. Each command parses its flags and calls one function that returns an
 * exit code; nothing here exits the process.
 */
import { Command, CommanderError } from 'commander'
import { EXIT } from './errors.js'
import { addOutputOptions, addTargetOptions } from './commands/common.js'
import { addRestartOptions, restartCommand } from './commands/restart.js'
import { statusCommand, type StatusFlags } from './commands/status.js'
import { resumeCommand, type ResumeFlags } from './commands/resume.js'
import { addDeployOptions, deployCommand } from './commands/deploy.js'
import { addDoctorOptions, doctorCommand, type DoctorFlags } from './commands/doctor.js'
import { addDemoOptions, demoCommand, type DemoFlags } from './commands/demo.js'
import { addSwitchOptions, switchCommand, type SwitchFlags } from './commands/switch.js'
import { addModeOptions, modeCommand, type ModeFlags } from './commands/mode.js'
import { hookPath } from './paths.js'
import type { DeployFlags } from './run/deploy-context.js'
import type { RestartFlags } from './run/flags.js'

export interface RunContext {
  /** aborted when rolling-restart itself gets SIGINT / SIGTERM */
  interrupt: AbortSignal
  /** the exit code of the command that ran */
  code: number
}

const EXIT_CODES_HELP = `
Exit codes:
  0  every selected worker replaced and ready (or nothing selected)
  1  internal error
  2  bad usage or input
  3  target not found or not permitted (no such group, stale pidfile, cannot signal)
  4  a step failed: stopped, the group is now in error-resistance mode
  5  refused: the group is in error-resistance mode, another run holds its lock,
     or another run listens on the readiness port
  6  doctor: a hazard of severity error was found
  7  the master replaced its workers on its own during the run (HUP, USR2, a
     graceful reload): stopped, not error-resistance mode; run again
130  interrupted (Ctrl-C / SIGTERM): no further worker touched
`

export function buildProgram(ctx: RunContext): Command {
  const program = new Command('rolling-restart')
    .description('Restart the workers of a running Gunicorn, Apache mod_wsgi or uWSGI server one at a time, each gated on a readiness datagram from the new worker.')
    .version(process.env.npm_package_version ?? '0.1.0', '--version')
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })

  addRestartOptions(program.command('restart', { isDefault: true }).description('roll the workers of a group (the default command)')).action(
    async (f: RestartFlags) => {
      ctx.code = await restartCommand(f, ctx.interrupt)
    },
  )

  addTargetOptions(program.command('status').description("the mode and workers (pid, uptime, CPU, RSS, release, state) of a group, or of every group in the state directory"))
    .option('--json', 'print the status as JSON')
    .action(async (f: StatusFlags) => {
      ctx.code = await statusCommand(f)
    })

  addTargetOptions(program.command('resume').description('leave error-resistance mode, once the cause is fixed'))
    .option('--json', 'print the outcome as JSON')
    .action(async (f: ResumeFlags) => {
      ctx.code = await resumeCommand(f)
    })

  addDeployOptions(program.command('deploy').description('point ROOT/current at releases/NAME and roll every worker onto it; on failure, point it back and restart the replaced workers'), 'deploy').action(
    async (f: DeployFlags) => {
      ctx.code = await deployCommand(f, 'deploy', ctx.interrupt)
    },
  )

  addDeployOptions(program.command('rollback').description('go back to the release before the live one: the same walk as deploy'), 'rollback').action(
    async (f: DeployFlags) => {
      ctx.code = await deployCommand(f, 'rollback', ctx.interrupt)
    },
  )

  addDoctorOptions(addTargetOptions(program.command('doctor').description('list what would make a rolling restart of this group unsafe or impossible, each with its fix (exit 6 when one is an error)'))).action(
    async (f: DoctorFlags) => {
      ctx.code = await doctorCommand(f)
    },
  )

  addDemoOptions(program.command('demo').description('the whole thing on a bundled app: start Gunicorn, put load on it, roll every worker, show what the clients saw, clean up'))
    .action(async (f: DemoFlags) => {
      ctx.code = await demoCommand(f, ctx.interrupt)
    })

  addSwitchOptions(program.command('switch').description('blue/green: send traffic to another mod_wsgi daemon group by replacing a RewriteMap file or a WSGIDispatchScript (refused unless the group is ready)'))
    .action(async (f: SwitchFlags) => {
      ctx.code = await switchCommand(f)
    })

  addModeOptions(program.command('mode').description('put the app in maintenance, read-only or normal mode by rewriting the file ModeMiddleware reads (no restart)'))
    .action(async (mode: string, f: ModeFlags) => {
      ctx.code = await modeCommand(mode, f)
    })

  program
    .command('hook-path')
    .description('print the directory to put on PYTHONPATH (or pip install) for the Python hooks')
    .action(() => {
      process.stdout.write(hookPath() + '\n')
      ctx.code = EXIT.OK
    })

  return program
}

export { addOutputOptions, CommanderError }
