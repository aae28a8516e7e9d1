/**
 * What a running Gunicorn master was configured with, read from outside: the app spec, chdir,
 * pythonpath, preload_app and raw_env. Best effort, from whatever is still visible:
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
import { readFileSync, realpathSync } from 'node:fs'
import { isAbsolute, join, normalize, resolve } from 'node:path'

/** Gunicorn 20.1 options that take no value (gunicorn/config.py, action store_true/store_const). */
const GUNICORN_FLAGS = new Set([
  '--reload',
  '--spew',
  '--check-config',
  '--print-config',
  '--preload',
  '--no-sendfile',
  '--reuse-port',
  '-D',
  '--daemon',
  '--initgroups',
  '--disable-redirect-access-to-syslog',
  '--capture-output',
  '--log-syslog',
  '-R',
  '--enable-stdio-inheritance',
  '--proxy-protocol',
  '--suppress-ragged-eofs',
  '--do-handshake-on-connect',
  '--strip-header-spaces',
  '--tolerate-dangerous-framing',
  '-h',
  '--help',
  '-v',
  '--version',
])

/** What one source (command line, GUNICORN_CMD_ARGS, config file) says. */
export interface GunicornArgs {
  config: string | null
  chdir: string | null
  pythonpath: string[]
  preload: boolean | null
  /** the positional `module:callable` (command line only; Gunicorn ignores it in GUNICORN_CMD_ARGS) */
  app: string | null
  rawEnv: string[]
}

function emptyArgs(): GunicornArgs {
  return { config: null, chdir: null, pythonpath: [], preload: null, app: null, rawEnv: [] }
}

/** Split a short option with its value attached (`-cconf.py`) or a long one with `=` (`--chdir=/x`). */
function splitOption(a: string): [string, string | null] {
  if (a.startsWith('--')) {
    const eq = a.indexOf('=')
    return eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, null]
  }
  if (a.startsWith('-') && a.length > 2) return [a.slice(0, 2), a.slice(2)]
  return [a, null]
}

/** Gunicorn's arguments (what follows the `gunicorn` entry point) -> the settings they name. */
export function parseGunicornArgs(args: readonly string[]): GunicornArgs {
  const out = emptyArgs()
  const positional: string[] = []
  for (let i = 0; i < args.length; i++) {
    const raw = args[i] as string
    if (raw === '--') {
      positional.push(...args.slice(i + 1))
      break
    }
    if (!raw.startsWith('-') || raw === '-') {
      positional.push(raw)
      continue
    }
    const [opt, attached] = splitOption(raw)
    if (GUNICORN_FLAGS.has(opt)) {
      if (opt === '--preload') out.preload = true
      continue
    }
    const value = attached ?? (args[++i] as string | undefined) ?? null
    if (value === null) break
    switch (opt) {
      case '-c':
      case '--config':
        out.config = value
        break
      case '--chdir':
        out.chdir = value
        break
      case '--pythonpath':
        out.pythonpath = splitPythonpath(value)
        break
      case '-e':
      case '--env':
        out.rawEnv.push(value)
        break
    }
  }
  out.app = positional[positional.length - 1] ?? null
  return out
}

function splitPythonpath(value: string): string[] {
  return value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
}

/** POSIX shell words, as Python's shlex.split does for GUNICORN_CMD_ARGS. */
export function shellSplit(text: string): string[] {
  const words: string[] = []
  let cur = ''
  let inWord = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (c === "'") {
      const end = text.indexOf("'", i + 1)
      cur += end < 0 ? text.slice(i + 1) : text.slice(i + 1, end)
      i = end < 0 ? text.length : end
      inWord = true
    } else if (c === '"') {
      let j = i + 1
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`\n'.includes(text[j + 1] as string)) j++
        cur += text[j]
      }
      i = j
      inWord = true
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i]
      inWord = true
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur)
      cur = ''
      inWord = false
    } else {
      cur += c
      inWord = true
    }
  }
  if (inWord) words.push(cur)
  return words
}

/** A Python literal we understand: str, bool, int, or a list/tuple of those. undefined = not a literal. */
export type PyLiteral = string | number | boolean | null | PyLiteral[]

/** Parse one Python literal expression (no calls, no names other than True/False/None). */
export function parsePyLiteral(text: string): PyLiteral | undefined {
  const src = stripComment(text).trim()
  let pos = 0
  const ws = () => {
    while (pos < src.length && /\s/.test(src[pos] as string)) pos++
  }
  const value = (): PyLiteral | undefined => {
    ws()
    const c = src[pos]
    if (c === undefined) return undefined
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')'
      pos++
      const items: PyLiteral[] = []
      ws()
      while (src[pos] !== close) {
        const v = value()
        if (v === undefined) return undefined
        items.push(v)
        ws()
        if (src[pos] === ',') pos++
        else if (src[pos] !== close) return undefined
        ws()
      }
      pos++
      return items
    }
    const str = /^[rRbBuU]{0,2}('''|"""|'|")/.exec(src.slice(pos))
    if (str) {
      const prefix = str[0].slice(0, str[0].length - (str[1] as string).length)
      const quote = str[1] as string
      const rawString = /r/i.test(prefix)
      pos += str[0].length
      let s = ''
      while (pos < src.length && !src.startsWith(quote, pos)) {
        if (src[pos] === '\\' && !rawString) {
          const n = src[pos + 1]
          s += n === 'n' ? '\n' : n === 't' ? '\t' : (n ?? '')
          pos += 2
        } else {
          s += src[pos++]
        }
      }
      if (pos >= src.length) return undefined
      pos += quote.length
      // adjacent literals concatenate: 'a' 'b'
      ws()
      if (src[pos] === "'" || src[pos] === '"') {
        const more = value()
        return typeof more === 'string' ? s + more : undefined
      }
      return s
    }
    const word = /^(True|False|None|-?\d+)\b/.exec(src.slice(pos))
    if (word) {
      pos += word[0].length
      const w = word[1] as string
      return w === 'True' ? true : w === 'False' ? false : w === 'None' ? null : Number(w)
    }
    return undefined
  }
  const v = value()
  ws()
  return pos === src.length ? v : undefined
}

/** Drop a trailing `# comment` that is not inside a string. */
function stripComment(line: string): string {
  let quote: string | null = null
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string
    if (quote) {
      if (c === '\\') i++
      else if (c === quote) quote = null
    } else if (c === "'" || c === '"') quote = c
    else if (c === '#') return line.slice(0, i)
  }
  return line
}

export interface ConfigFileSettings {
  /** name -> literal value; names assigned something we cannot evaluate map to undefined */
  values: Map<string, PyLiteral | undefined>
}

/**
 * Top-level assignments of a Gunicorn config file (`name = literal`, on one line or continued in
 * brackets). Later assignments win, as when Python runs the file.
 */
export function parseConfigFile(text: string): ConfigFileSettings {
  const values = new Map<string, PyLiteral | undefined>()
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)(.*)$/.exec(lines[i] as string)
    if (!m) continue
    let expr = m[2] as string
    // a bracketed value continued on the next lines
    let depth = bracketDepth(expr)
    while (depth > 0 && i + 1 < lines.length) {
      expr += '\n' + lines[++i]
      depth = bracketDepth(expr)
    }
    values.set(m[1] as string, parsePyLiteral(expr.split('\n').map(stripComment).join(' ')))
  }
  return { values }
}

function bracketDepth(s: string): number {
  let depth = 0
  const code = s
    .split('\n')
    .map(stripComment)
    .join('\n')
    .replace(/'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"/g, '')
  for (const c of code) {
    if (c === '[' || c === '(' || c === '{') depth++
    else if (c === ']' || c === ')' || c === '}') depth--
  }
  return depth
}

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

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

function realpathOrNull(path: string): string | null {
  try {
    return realpathSync(path)
  } catch {
    return null
  }
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

/** Combine the visible sources into Gunicorn's effective settings. */
export function gunicornSettings(view: MasterView): GunicornSettings {
  const read = view.readFile ?? readText
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

  // later sources override earlier ones
  const pick = <T>(
    fromFile: () => T | undefined | null,
    fromEnv: T | null | undefined,
    fromCli: T | null | undefined,
    fallback: Known<T>,
  ): Known<T> => {
    if (fromCli !== null && fromCli !== undefined) return { value: fromCli, from: 'command line' }
    if (fromEnv !== null && fromEnv !== undefined) return { value: fromEnv, from: 'GUNICORN_CMD_ARGS' }
    const f = fromFile()
    if (f !== null && f !== undefined) return { value: f, from: 'config file' }
    return fallback
  }
  const fileString = (name: string): string | undefined => {
    const v = file.get(name)
    return typeof v === 'string' ? v : undefined
  }
  const complete = cli !== null && view.env !== null
  const app = pick<string | null>(() => fileString('wsgi_app'), null, cli?.app ?? null, { value: null, from: 'unknown' })
  const preload = pick<boolean | null>(
    () => {
      const v = file.get('preload_app')
      return typeof v === 'boolean' ? v : undefined
    },
    envArgs?.preload ?? null,
    cli?.preload ?? null,
    // a config file that does not set it, or a visible command line and environment without it: the default
    configFile !== null || (complete && candidates.length === 0) ? { value: false, from: 'default' } : { value: null, from: 'unknown' },
  )
  const chdirRaw = pick<string | null>(
    () => fileString('chdir'),
    envArgs?.chdir ?? null,
    cli?.chdir ?? null,
    complete && view.cwd ? { value: defaultChdir(view.cwd, view.env ?? {}, view.realpath ?? realpathOrNull), from: 'default' } : { value: null, from: 'unknown' },
  )
  // Gunicorn resolves a relative chdir against its start directory (config.py validate_chdir)
  const chdir: Known<string | null> =
    chdirRaw.value !== null ? { value: normalize(isAbsolute(chdirRaw.value) ? chdirRaw.value : resolve(base, chdirRaw.value)), from: chdirRaw.from } : chdirRaw
  const pythonpathRaw = pick<string[]>(
    () => {
      const v = fileString('pythonpath')
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
  return { app, chdir, pythonpath, preload, rawEnv, configFile, envPythonpath, pwd: view.env?.PWD ?? null, blind }
}

/** `-e KEY=VALUE` / raw_env entries -> variables. */
export function rawEnvVars(rawEnv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const e of rawEnv) {
    const eq = e.indexOf('=')
    if (eq > 0) out[e.slice(0, eq)] = e.slice(eq + 1)
  }
  return out
}
