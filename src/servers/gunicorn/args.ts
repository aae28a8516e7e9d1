/**
 * Gunicorn's own arguments, as the command line or GUNICORN_CMD_ARGS gives them: the few settings
 * rolling-restart reads (config, chdir, pythonpath, preload, the app, raw_env, proc_name, the
 * worker class, threads, keep-alive).
 */
import { splitLong, walkArgs, type OptionRules } from '../shared/argv.js'

/**
 * Options that take no value (gunicorn/config.py, action store_true/store_const), in 20.1 and 26.2
 * together: an option only one of them has cannot be on the command line of a master of the other.
 */
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
  '--suppress-ragged-eofs',
  '--do-handshake-on-connect',
  '--strip-header-spaces',
  '--tolerate-dangerous-framing',
  // 26
  '--enable-backlog-metric',
  '--no-control-socket',
  '--permit-obsolete-folding',
  '--permit-unconventional-http-method',
  '--permit-unconventional-http-version',
  '--casefold-http-method',
  '-h',
  '--help',
  '-v',
  '--version',
])

/** 20.1: a flag; 26: an optional value (nargs='?', one of these). */
const PROXY_PROTOCOL_MODES = new Set(['off', 'v1', 'v2', 'auto'])

/** What one source (command line, GUNICORN_CMD_ARGS, config file) says. */
export interface GunicornArgs {
  config: string | null
  chdir: string | null
  pythonpath: string[]
  preload: boolean | null
  /** the positional `module:callable` (command line only; Gunicorn ignores it in GUNICORN_CMD_ARGS) */
  app: string | null
  rawEnv: string[]
  /** -n/--name: proc_name */
  name: string | null
  /** -k/--worker-class */
  workerClass: string | null
  threads: number | null
  /** --keep-alive, seconds */
  keepalive: number | null
}

function emptyArgs(): GunicornArgs {
  return { config: null, chdir: null, pythonpath: [], preload: null, app: null, rawEnv: [], name: null, workerClass: null, threads: null, keepalive: null }
}

/** Split a short option with its value attached (`-cconf.py`) or a long one with `=` (`--chdir=/x`). */
function splitOption(a: string): [string, string | null] {
  if (a.startsWith('--')) return splitLong(a)
  if (a.startsWith('-') && a.length > 2) return [a.slice(0, 2), a.slice(2)]
  return [a, null]
}

const RULES: OptionRules = {
  flags: GUNICORN_FLAGS,
  split: splitOption,
  optional: new Map([['--proxy-protocol', (next: string | undefined) => PROXY_PROTOCOL_MODES.has(next ?? '')]]),
}

function numberOrNull(value: string): number | null {
  const n = Number(value)
  return value.trim() !== '' && Number.isFinite(n) ? n : null
}

/** Record one option's value in `out`. */
function take(out: GunicornArgs, opt: string, value: string): void {
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
    case '-n':
    case '--name':
      out.name = value
      break
    case '-k':
    case '--worker-class':
      out.workerClass = value
      break
    case '--threads':
      out.threads = numberOrNull(value)
      break
    case '--keep-alive':
      out.keepalive = numberOrNull(value)
      break
  }
}

/** Gunicorn's arguments (what follows the `gunicorn` entry point) -> the settings they name. */
export function parseGunicornArgs(args: readonly string[]): GunicornArgs {
  const out = emptyArgs()
  const positional = walkArgs(args, RULES, (opt, value) => {
    if (opt === '--preload') out.preload = true
    else if (value !== null) take(out, opt, value)
  })
  out.app = positional[positional.length - 1] ?? null
  return out
}

/** Gunicorn's pythonpath setting: comma-separated directories. */
export function splitPythonpath(value: string): string[] {
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
