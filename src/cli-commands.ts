/**
 * Every command: its name and description (always loaded, for --help), and a loader for its
 * options and action (loaded only when the command runs). One row per command.
 */
import type { Command } from 'commander'

export interface LoadedCommand {
  options: (cmd: Command) => void
  /** commander's action arguments: the positional arguments, then the flags, then the command */
  action: (args: unknown[], interrupt: AbortSignal) => Promise<number>
}

export interface CommandSpec {
  name: string
  description: string
  load: () => Promise<LoadedCommand>
}

export const DEFAULT_COMMAND = 'restart'

/** The flags object commander passes to a command without positional arguments. */
const flagsOf = <F>(args: unknown[]): F => args[0] as F

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'restart',
    description: 'roll the workers of a group (the default command)',
    load: async () => {
      const m = await import('./commands/restart.js')
      return { options: (c) => void m.addRestartOptions(c), action: (a, interrupt) => m.restartCommand(flagsOf(a), interrupt) }
    },
  },
  {
    name: 'status',
    description: 'a group\'s mode, master, memory, listen addresses and workers (pid, uptime, CPU, RSS, requests, replacements, release, state); without a target, every group running on this host or in the state directory',
    load: async () => {
      const m = await import('./commands/status.js')
      return { options: (c) => void m.addStatusOptions(c), action: (a, interrupt) => m.statusCommand(flagsOf(a), interrupt) }
    },
  },
  {
    name: 'resume',
    description: 'leave error-resistance mode, once the cause is fixed',
    load: async () => {
      const [m, common] = await Promise.all([import('./commands/resume.js'), import('./commands/common.js')])
      return {
        options: (c) => void common.addTargetOptions(c).option('--json', 'print the outcome as JSON'),
        action: (a) => m.resumeCommand(flagsOf(a)),
      }
    },
  },
  {
    name: 'deploy',
    description: 'point ROOT/current at releases/NAME and roll every worker onto it; on failure, point it back and restart the replaced workers',
    load: async () => {
      const m = await import('./commands/deploy.js')
      return { options: (c) => void m.addDeployOptions(c, 'deploy'), action: (a, interrupt) => m.deployCommand(flagsOf(a), 'deploy', interrupt) }
    },
  },
  {
    name: 'rollback',
    description: 'go back to the release before the live one: the same walk as deploy',
    load: async () => {
      const m = await import('./commands/deploy.js')
      return { options: (c) => void m.addDeployOptions(c, 'rollback'), action: (a, interrupt) => m.deployCommand(flagsOf(a), 'rollback', interrupt) }
    },
  },
  {
    name: 'doctor',
    description: 'list what would make a rolling restart of this group unsafe or impossible, each with its fix (exit 6 when one is an error)',
    load: async () => {
      const [m, common] = await Promise.all([import('./commands/doctor.js'), import('./commands/common.js')])
      return { options: (c) => void m.addDoctorOptions(common.addTargetOptions(c)), action: (a) => m.doctorCommand(flagsOf(a)) }
    },
  },
  {
    name: 'demo',
    description: 'the whole thing on a bundled app: start Gunicorn, put load on it, roll every worker, show what the clients saw, clean up',
    load: async () => {
      const m = await import('./commands/demo.js')
      return { options: (c) => void m.addDemoOptions(c), action: (a, interrupt) => m.demoCommand(flagsOf(a), interrupt) }
    },
  },
  {
    name: 'switch',
    description: 'blue/green: send traffic to another mod_wsgi daemon group by replacing a RewriteMap file or a WSGIDispatchScript (refused unless the group is ready)',
    load: async () => {
      const m = await import('./commands/switch.js')
      return { options: (c) => void m.addSwitchOptions(c), action: (a) => m.switchCommand(flagsOf(a)) }
    },
  },
  {
    name: 'mode',
    description: 'put the app in maintenance, read-only or normal mode by rewriting the file ModeMiddleware reads (no restart)',
    load: async () => {
      const m = await import('./commands/mode.js')
      return { options: (c) => void m.addModeOptions(c), action: (a) => m.modeCommand(a[0] as string, a[1] as Parameters<typeof m.modeCommand>[1]) }
    },
  },
  {
    name: 'hook-path',
    description: 'print the directory to put on PYTHONPATH (or pip install) for the Python hooks',
    load: async () => {
      const m = await import('./paths.js')
      return {
        options: () => undefined,
        action: async () => {
          process.stdout.write(m.hookPath() + '\n')
          return 0
        },
      }
    },
  },
  {
    name: 'completion',
    description: 'print a shell completion script: rolling-restart completion bash|zsh (e.g. >> ~/.bashrc)',
    load: async () => {
      const m = await import('./completion.js')
      return {
        options: (c) => void c.argument('<shell>', 'bash or zsh'),
        action: (a) => m.completionCommand(a[0] as string),
      }
    },
  },
]
