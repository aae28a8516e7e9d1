/**
 * The command lines that start Uvicorn's `--workers` supervisor: `uvicorn main:app --workers 3`
 * (or `python -m uvicorn ...`) and `fastapi run [PATH] --workers 3`, read for the few settings
 * rolling-restart needs: the app, where it is imported from, reload mode, the keep-alive timeout.
 *
 * Which options take a value is Uvicorn's own (uvicorn/main.py, 0.54: every option except the
 * is_flag ones below) and fastapi-cli's (fastapi_cli/cli.py `run`/`dev`). Uvicorn also reads each
 * option from UVICORN_<NAME> (click's auto_envvar_prefix) and the app from UVICORN_APP.
 */
import { basename } from 'node:path'
import { splitLong, walkArgs } from '../shared/argv.js'

/** Uvicorn 0.54 options that take no value (is_flag=True, including the --x/--no-x pairs). */
const UVICORN_FLAGS = new Set([
  '--reload',
  '--http2',
  '--version',
  '--reset-contextvars',
  '--factory',
  '--access-log',
  '--no-access-log',
  '--use-colors',
  '--no-use-colors',
  '--proxy-headers',
  '--no-proxy-headers',
  '--server-header',
  '--no-server-header',
  '--date-header',
  '--no-date-header',
  '--help',
])

/** fastapi-cli options that take no value. */
const FASTAPI_FLAGS = new Set(['--reload', '--no-reload', '--proxy-headers', '--no-proxy-headers', '--verbose', '-v', '--help', '-h', '--version'])

export type UvicornCommand = 'uvicorn' | 'fastapi'

/** What a supervisor's command line says. */
export interface UvicornArgs {
  command: UvicornCommand
  /** uvicorn: the positional `module:attr` (or UVICORN_APP); fastapi: --entrypoint */
  app: string | null
  /** fastapi: the PATH argument (a .py file or a package directory) and --app NAME */
  path: string | null
  appName: string | null
  factory: boolean
  /** --app-dir (Uvicorn's default `.`: the working directory) */
  appDir: string | null
  /** --reload (fastapi dev: unless --no-reload): a reloader, not a set of workers to roll */
  reload: boolean
  workers: number | null
  /** --timeout-keep-alive, seconds (Uvicorn's default 5) */
  keepAlive: number | null
  /** --timeout-graceful-shutdown, seconds (default: none, wait for every connection) */
  gracefulShutdown: number | null
}

/**
 * Where the command starts in argv: `.../uvicorn` (run directly), `python [-flags] .../uvicorn`
 * (its shebang), or `python [-flags] -m uvicorn`; the same for fastapi. null for any other command.
 */
export function commandOf(argv: readonly string[]): { command: UvicornCommand; index: number } | null {
  const isCommand = (a: string | undefined): a is UvicornCommand => a === 'uvicorn' || a === 'fastapi'
  if (isCommand(basename(argv[0] ?? ''))) return { command: basename(argv[0] as string) as UvicornCommand, index: 0 }
  if (!/^python[0-9.]*$/.test(basename(argv[0] ?? ''))) return null
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '-m') return isCommand(argv[i + 1]) ? { command: argv[i + 1] as UvicornCommand, index: i + 1 } : null
    if (!a.startsWith('-')) return isCommand(basename(a)) ? { command: basename(a) as UvicornCommand, index: i } : null
  }
  return null
}

/** click's booleans from the environment */
const TRUE = /^(1|true|yes|on)$/i

function numberOrNull(v: string | null | undefined): number | null {
  const n = v === null || v === undefined ? NaN : Number(v)
  return Number.isFinite(n) ? n : null
}

/** The arguments after the entry point; `env` supplies UVICORN_* values the command line leaves out. */
export function parseUvicornArgs(command: UvicornCommand, args: readonly string[], env: Record<string, string> = {}): UvicornArgs {
  const values = new Map<string, string>()
  const seen = new Set<string>()
  const sub = command === 'fastapi' && (args[0] === 'run' || args[0] === 'dev') ? 1 : 0
  const rules = { flags: command === 'uvicorn' ? UVICORN_FLAGS : FASTAPI_FLAGS, split: splitLong }
  const positional = walkArgs(args.slice(sub), rules, (opt, value) => (value === null ? seen.add(opt) : values.set(opt, value)))
  const v = (opt: string, envName: string): string | null => values.get(opt) ?? env[envName] ?? null
  const dev = command === 'fastapi' && args[0] === 'dev'
  return {
    command,
    app: command === 'uvicorn' ? (positional[0] ?? env.UVICORN_APP ?? null) : (values.get('--entrypoint') ?? values.get('-e') ?? null),
    path: command === 'fastapi' ? (positional[0] ?? null) : null,
    appName: command === 'fastapi' ? (values.get('--app') ?? null) : null,
    factory: seen.has('--factory') || TRUE.test(env.UVICORN_FACTORY ?? ''),
    appDir: command === 'uvicorn' ? v('--app-dir', 'UVICORN_APP_DIR') : null,
    reload: seen.has('--reload') || (dev && !seen.has('--no-reload')) || TRUE.test(env.UVICORN_RELOAD ?? ''),
    workers: numberOrNull(values.get('--workers') ?? (command === 'uvicorn' ? env.UVICORN_WORKERS : undefined) ?? env.WEB_CONCURRENCY),
    keepAlive: numberOrNull(command === 'uvicorn' ? v('--timeout-keep-alive', 'UVICORN_TIMEOUT_KEEP_ALIVE') : null),
    gracefulShutdown: numberOrNull(command === 'uvicorn' ? v('--timeout-graceful-shutdown', 'UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN') : null),
  }
}

/** The app spec as the hook reports it (APP=, and GROUP when ROLLING_RESTART_GROUP is unset): `main:app`, `main:create()` with --factory. */
export function reportedSpec(a: UvicornArgs): string | null {
  if (a.app === null || !/^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$/.test(a.app)) return a.app
  return a.factory ? `${a.app}()` : a.app
}
