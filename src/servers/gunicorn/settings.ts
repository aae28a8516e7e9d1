/**
 * What a running Gunicorn master was configured with, read from outside: the app spec, chdir,
 * pythonpath, preload_app, raw_env, proc_name, the worker class, threads and keep-alive. Best
 * effort, from whatever is still visible:
 *
 *   - the command line, only while the master has no process title: setproctitle overwrites
 *     /proc/PID/cmdline with `gunicorn: master [NAME]` (checked with python3-setproctitle 1.3.1);
 *   - GUNICORN_CMD_ARGS in /proc/PID/environ, which setproctitle also blanks unless the server runs
 *     with SPT_NOENV=1;
 *   - the config file: `-c FILE` from either of those, --server-config FILE, or Gunicorn's default
 *     `gunicorn.conf.py` in the master's working directory. Only literal assignments are read
 *     (`chdir = '/srv/app/current'`); anything computed is reported as unknown, never guessed.
 *
 * Precedence is Gunicorn's own (gunicorn/app/base.py, Application.load_config, 20.1): defaults, then
 * the config file, then GUNICORN_CMD_ARGS, then the command line.
 */
import { isAbsolute, join, normalize, resolve } from 'node:path'
import { envFromAssignments } from '../shared/env-assignments.js'
import { readTextOrNull, realpathOrNull } from '../shared/quiet-fs.js'
import { parseGunicornArgs, shellSplit, splitPythonpath, type GunicornArgs } from './args.js'
import { parseConfigFile, type PyLiteral } from '../shared/python-literals.js'

export { parseGunicornArgs, shellSplit, type GunicornArgs } from './args.js'
export { parseConfigFile, parsePyLiteral, type ConfigFileSettings, type PyLiteral } from '../shared/python-literals.js'

export type SettingSource = 'command line' | 'GUNICORN_CMD_ARGS' | 'config file' | 'default' | 'unknown'

export interface Known<T> {
  value: T
  from: SettingSource
}

/** What we could learn about a master; `unknown` where nothing visible says. */
export interface GunicornSettings {
  app: Known<string | null>
  chdir: Known<string | null>
  pythonpath: Known<string[]>
  preload: Known<boolean | null>
  rawEnv: string[]
  /** proc_name (-n); null = not set, so Gunicorn uses defaultProcName */
  procName: Known<string | null>
  /** Gunicorn's default_proc_name: the app given on the command line, else `gunicorn` */
  defaultProcName: string
  /** worker_class (-k), default `sync` */
  workerClass: Known<string | null>
  /** threads, default 1 */
  threads: Known<number | null>
  /** keepalive (--keep-alive) in seconds, default 2 */
  keepalive: Known<number | null>
  configFile: string | null
  /** PYTHONPATH of the master's environment (entries), or null when the environment is unreadable */
  envPythonpath: string[] | null
  /** $PWD of the master's environment, or null */
  pwd: string | null
  /** why some settings are unknown, for messages */
  blind: string[]
}

export interface MasterView {
  /** the arguments after the gunicorn entry point, or null when the command line is hidden by a process title */
  args: string[] | null
  /** /proc/PID/environ, or null when unreadable or blanked by setproctitle */
  env: Record<string, string> | null
  /** /proc/PID/cwd: the real path of the master's working directory */
  cwd: string | null
  /** --server-config FILE */
  explicitConfig?: string | undefined
  /** reads a file; injectable for tests */
  readFile?: (path: string) => string | null
  /** realpath(3), null when the path does not exist; injectable for tests */
  realpath?: (path: string) => string | null
}

/**
 * Gunicorn's default chdir is util.getcwd() at start: $PWD when it named the same directory as the
 * real working directory (so a shell's `cd /srv/app/current` keeps the symlink path), else the real
 * path. We see the process later, after `current` may have moved, so a $PWD that goes through a
 * symlink is taken as what Gunicorn saw.
 */
export function defaultChdir(cwd: string, env: Record<string, string>, realpath: (p: string) => string | null): string {
  const pwd = env.PWD
  if (!pwd || !isAbsolute(pwd) || pwd === cwd) return cwd
  const real = realpath(pwd)
  if (real === cwd || (real !== null && real !== normalize(pwd))) return normalize(pwd)
  return cwd
}

/** The visible sources of a master's settings, parsed. */
interface Sources {
  cli: GunicornArgs | null
  envArgs: GunicornArgs | null
  configFile: string | null
  /** the config file's literal assignments (empty without one) */
  file: Map<string, PyLiteral | undefined>
  /** whether --server-config, -c or GUNICORN_CMD_ARGS named a config file */
  configNamed: boolean
  blind: string[]
}

function readSources(view: MasterView): Sources {
  const read = view.readFile ?? readTextOrNull
  const blind: string[] = []
  const cli = view.args ? parseGunicornArgs(view.args) : null
  if (!cli) blind.push("the master's command line is hidden by its process title (setproctitle)")
  const envArgsText = view.env?.GUNICORN_CMD_ARGS
  const envArgs = envArgsText ? parseGunicornArgs(shellSplit(envArgsText)) : null
  if (!view.env) blind.push("its environment is unreadable (setproctitle blanks /proc/PID/environ unless the server runs with SPT_NOENV=1)")
  if (envArgs) envArgs.app = null // Gunicorn ignores positional arguments in GUNICORN_CMD_ARGS

  // the config file: as Gunicorn picks it (command line, then GUNICORN_CMD_ARGS, then ./gunicorn.conf.py)
  const base = view.cwd ?? '/'
  let configFile: string | null = null
  let configText: string | null = null
  const candidates = [view.explicitConfig, cli?.config, envArgs?.config].filter((c): c is string => typeof c === 'string' && c !== '')
  for (const c of candidates) {
    if (c.startsWith('python:')) continue // a module, not a file: not read
    const path = resolve(base, c.replace(/^file:/, ''))
    const text = read(path)
    if (text !== null) {
      configFile = path
      configText = text
      break
    }
    blind.push(`cannot read the config file ${path}`)
  }
  if (configFile === null && candidates.length === 0 && view.cwd) {
    const path = join(view.cwd, 'gunicorn.conf.py')
    const text = read(path)
    if (text !== null) {
      configFile = path
      configText = text
    }
  }
  if (configFile === null && candidates.length === 0 && !cli) blind.push('no config file was found (name it with --server-config FILE)')
  const file = configText !== null ? parseConfigFile(configText).values : new Map<string, PyLiteral | undefined>()
  return { cli, envArgs, configFile, file, configNamed: candidates.length > 0, blind }
}

/** Later sources override earlier ones: the command line, then GUNICORN_CMD_ARGS, then the config file, then the fallback. */
function pick<T>(fromFile: () => T | undefined | null, fromEnv: T | null | undefined, fromCli: T | null | undefined, fallback: Known<T>): Known<T> {
  if (fromCli !== null && fromCli !== undefined) return { value: fromCli, from: 'command line' }
  if (fromEnv !== null && fromEnv !== undefined) return { value: fromEnv, from: 'GUNICORN_CMD_ARGS' }
  const f = fromFile()
  if (f !== null && f !== undefined) return { value: f, from: 'config file' }
  return fallback
}

function fileString(file: Sources['file'], name: string): string | undefined {
  const v = file.get(name)
  return typeof v === 'string' ? v : undefined
}

function fileNumber(file: Sources['file'], name: string): number | undefined {
  const v = file.get(name)
  return typeof v === 'number' ? v : undefined
}

/** proc_name, the worker class, threads and keep-alive: Gunicorn's default where every source that could set one is visible. */
function workerSettings(src: Sources, defaultsKnown: boolean): Pick<GunicornSettings, 'procName' | 'workerClass' | 'threads' | 'keepalive'> {
  const { cli, envArgs, file } = src
  const fallback = <T>(value: T): Known<T | null> => (defaultsKnown ? { value, from: 'default' } : { value: null, from: 'unknown' })
  return {
    procName: pick<string | null>(() => fileString(file, 'proc_name'), envArgs?.name ?? null, cli?.name ?? null, fallback<string | null>(null)),
    workerClass: pick<string | null>(() => fileString(file, 'worker_class'), envArgs?.workerClass ?? null, cli?.workerClass ?? null, fallback('sync')),
    threads: pick<number | null>(() => fileNumber(file, 'threads'), envArgs?.threads ?? null, cli?.threads ?? null, fallback(1)),
    keepalive: pick<number | null>(() => fileNumber(file, 'keepalive'), envArgs?.keepalive ?? null, cli?.keepalive ?? null, fallback(2)),
  }
}

/** Combine the visible sources into Gunicorn's effective settings. */
export function gunicornSettings(view: MasterView): GunicornSettings {
  const sources = readSources(view)
  const { cli, envArgs, configFile, file, configNamed, blind } = sources
  const base = view.cwd ?? '/'
  const complete = cli !== null && view.env !== null
  // a config file that does not set a setting, or a visible command line and environment without it: the default
  const defaultsKnown = configFile !== null || (complete && !configNamed)
  const app = pick<string | null>(() => fileString(file, 'wsgi_app'), null, cli?.app ?? null, { value: null, from: 'unknown' })
  const preload = pick<boolean | null>(
    () => {
      const v = file.get('preload_app')
      return typeof v === 'boolean' ? v : undefined
    },
    envArgs?.preload ?? null,
    cli?.preload ?? null,
    defaultsKnown ? { value: false, from: 'default' } : { value: null, from: 'unknown' },
  )
  const chdirRaw = pick<string | null>(
    () => fileString(file, 'chdir'),
    envArgs?.chdir ?? null,
    cli?.chdir ?? null,
    complete && view.cwd ? { value: defaultChdir(view.cwd, view.env ?? {}, view.realpath ?? realpathOrNull), from: 'default' } : { value: null, from: 'unknown' },
  )
  // Gunicorn resolves a relative chdir against its start directory (config.py validate_chdir)
  const chdir: Known<string | null> =
    chdirRaw.value !== null ? { value: normalize(isAbsolute(chdirRaw.value) ? chdirRaw.value : resolve(base, chdirRaw.value)), from: chdirRaw.from } : chdirRaw
  const pythonpathRaw = pick<string[]>(
    () => {
      const v = fileString(file, 'pythonpath')
      return v !== undefined ? splitPythonpath(v) : undefined
    },
    envArgs?.pythonpath.length ? envArgs.pythonpath : null,
    cli?.pythonpath.length ? cli.pythonpath : null,
    { value: [], from: 'default' },
  )
  // Application.run() makes each entry absolute after the chdir
  const pythonpath = { ...pythonpathRaw, value: pythonpathRaw.value.map((p) => resolve(chdir.value ?? base, p)) }
  const fileEnv = file.get('raw_env')
  const rawEnv = [
    ...(Array.isArray(fileEnv) ? fileEnv.filter((e): e is string => typeof e === 'string') : []),
    ...(envArgs?.rawEnv ?? []),
    ...(cli?.rawEnv ?? []),
  ]
  const envPythonpath = view.env ? (view.env.PYTHONPATH ?? '').split(':').filter(Boolean).map((p) => resolve(base, p)) : null
  return {
    app,
    chdir,
    pythonpath,
    preload,
    rawEnv,
    ...workerSettings(sources, defaultsKnown),
    defaultProcName: cli?.app ?? 'gunicorn',
    configFile,
    envPythonpath,
    pwd: view.env?.PWD ?? null,
    blind,
  }
}

/** `-e KEY=VALUE` / raw_env entries -> variables. */
export function rawEnvVars(rawEnv: readonly string[]): Record<string, string> {
  return envFromAssignments(rawEnv)
}
