/**
 * Gunicorn's own arguments, as the command line or GUNICORN_CMD_ARGS gives them: the few settings
 * rolling-restart reads (config, chdir, pythonpath, preload, the app, raw_env).
 */

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
