/**
 * A best-effort reader of uWSGI options: a master's command line (`--lazy-apps`, `--ini FILE`,
 * `app.ini`), the ini files it names (section [uwsgi], `ini = ...` includes, the %d %n %p magic
 * variables), and `UWSGI_*` environment variables. YAML, JSON and XML configs are not read; they
 * are listed in `unread`, so callers can say how sure they are. Never throws.
 */
import { readFileSync } from 'node:fs'
import { basename, dirname, extname, isAbsolute, join } from 'node:path'

export interface UwsgiOptions {
  /** option name (dashes, lower case) -> values in the order uWSGI would see them */
  values: Map<string, string[]>
  /** where options were read from, for messages (`command line`, `/etc/uwsgi/app.ini`) */
  sources: string[]
  /** config files named but not read (other formats, unreadable) */
  unread: string[]
  /** ini files read */
  iniFiles: string[]
}

/** Options that take no value on the command line (so a following word is not eaten as their value). */
const FLAGS = new Set([
  'master', 'lazy-apps', 'lazy', 'die-on-term', 'enable-threads', 'auto-procname', 'vacuum', 'need-app',
  'single-interpreter', 'thunder-lock', 'strict', 'no-orphans', 'honour-stdin', 'disable-logging',
  'memory-report', 'harakiri-verbose', 'cheap', 'catch-exceptions', 'no-default-app', 'manage-script-name',
  'log-master', 'threaded-logger', 'close-on-exec', 'stats-http', 'die-on-idle', 'exit-on-reload',
])

const SHORT: Record<string, { name: string; flag: boolean }> = {
  M: { name: 'master', flag: true },
  p: { name: 'processes', flag: false },
  s: { name: 'socket', flag: false },
  w: { name: 'module', flag: false },
  H: { name: 'home', flag: false },
  T: { name: 'enable-threads', flag: true },
  L: { name: 'disable-logging', flag: true },
  d: { name: 'daemonize', flag: false },
  b: { name: 'buffer-size', flag: false },
  t: { name: 'harakiri', flag: false },
  i: { name: 'single-interpreter', flag: true },
  l: { name: 'listen', flag: false },
  z: { name: 'socket-timeout', flag: false },
  R: { name: 'max-requests', flag: false },
}

const normalize = (name: string): string => name.toLowerCase().replace(/_/g, '-')

function add(o: UwsgiOptions, name: string, value: string): void {
  const key = normalize(name)
  const list = o.values.get(key) ?? []
  list.push(value)
  o.values.set(key, list)
}

/** Read one ini file (and the ini files it includes) into `o`. `spec` may be `file.ini:section`. */
export function readIni(o: UwsgiOptions, spec: string, cwd: string, depth = 0): void {
  if (depth > 8) return
  let path = spec
  let section = 'uwsgi'
  const colon = spec.lastIndexOf(':')
  if (colon > 0 && !/^[a-z]+:\/\//i.test(spec) && !spec.slice(colon).includes('/')) {
    path = spec.slice(0, colon)
    section = spec.slice(colon + 1) || 'uwsgi'
  }
  if (/^[a-z]+:\/\//i.test(path)) {
    o.unread.push(spec)
    return
  }
  const abs = isAbsolute(path) ? path : join(cwd, path)
  let text: string
  try {
    text = readFileSync(abs, 'utf8')
  } catch {
    o.unread.push(abs)
    return
  }
  o.iniFiles.push(abs)
  o.sources.push(abs)
  const magic: Record<string, string> = {
    d: dirname(abs) + '/',
    n: basename(abs, extname(abs)),
    p: abs,
    s: basename(abs),
    c: basename(dirname(abs)),
  }
  const local = new Map<string, string>()
  const expand = (v: string): string =>
    v.replace(/%\(([^)]+)\)|%([dnpsc])/g, (whole, named: string | undefined, letter: string | undefined) => {
      if (named !== undefined) return local.get(normalize(named)) ?? whole
      return magic[letter as string] ?? whole
    })
  let current: string | null = null
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim()
    if (!line || line.startsWith(';') || line.startsWith('#')) continue
    const sec = /^\[(.+)\]$/.exec(line)
    if (sec) {
      current = (sec[1] as string).trim()
      continue
    }
    if (current !== section) continue
    const eq = line.indexOf('=')
    const key = (eq < 0 ? line : line.slice(0, eq)).trim()
    const value = eq < 0 ? 'true' : expand(line.slice(eq + 1).trim())
    if (!key) continue
    local.set(normalize(key), value)
    if (normalize(key) === 'ini') readIni(o, value, dirname(abs), depth + 1)
    else add(o, key, value)
  }
}

/** Options from a uWSGI command line (argv[0] is the program) and the ini files it names. */
export function parseCommandLine(argv: string[], cwd: string): UwsgiOptions {
  const o: UwsgiOptions = { values: new Map(), sources: ['command line'], unread: [], iniFiles: [] }
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string
    let name: string | null = null
    let value: string | null = null
    if (a.startsWith('--')) {
      const eq = a.indexOf('=')
      if (eq > 0) {
        name = a.slice(2, eq)
        value = a.slice(eq + 1)
      } else {
        name = a.slice(2)
        const next = argv[i + 1]
        if (FLAGS.has(normalize(name)) || next === undefined || next.startsWith('-')) value = 'true'
        else {
          value = next
          i++
        }
      }
    } else if (a.startsWith('-') && a.length >= 2) {
      const short = SHORT[a[1] as string]
      if (!short) continue
      name = short.name
      if (short.flag) value = 'true'
      else if (a.length > 2) value = a.slice(2)
      else {
        value = argv[i + 1] ?? ''
        i++
      }
    } else {
      // uWSGI loads a bare config file by its extension
      if (/\.ini(:[\w-]+)?$/.test(a)) readIni(o, a, cwd)
      else if (/\.(ya?ml|json|js|xml)(:[\w-]+)?$/.test(a)) o.unread.push(a)
      continue
    }
    if (normalize(name) === 'ini') readIni(o, value, cwd)
    else if (['yaml', 'yml', 'json', 'xml', 'xmlconfig', 'js'].includes(normalize(name))) o.unread.push(value)
    else add(o, name, value)
  }
  return o
}

/** Add `UWSGI_LAZY_APPS=1` style options from an environment (uWSGI reads them as options). */
export function addEnvOptions(o: UwsgiOptions, env: Record<string, string>): void {
  let any = false
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('UWSGI_') || ['UWSGI_RELOADS', 'UWSGI_ORIGINAL_PROC_NAME', 'UWSGI_VASSAL_CONFIG'].includes(k)) continue
    add(o, k.slice('UWSGI_'.length), v)
    any = true
  }
  if (any) o.sources.push('UWSGI_* environment variables')
}

export function emptyOptions(): UwsgiOptions {
  return { values: new Map(), sources: [], unread: [], iniFiles: [] }
}

/** The effective (last) value of an option, or null when it is not set. */
export function lastValue(o: UwsgiOptions, name: string): string | null {
  const list = o.values.get(normalize(name))
  return list && list.length ? (list[list.length - 1] as string) : null
}

/** A boolean option: true or false when set, null when not set. */
export function boolOption(o: UwsgiOptions, name: string): boolean | null {
  const v = lastValue(o, name)
  if (v === null) return null
  if (/^(|1|true|yes|on|y)$/i.test(v.trim())) return true
  if (/^(0|false|no|off|n)$/i.test(v.trim())) return false
  return true
}

export function hasOption(o: UwsgiOptions, name: string): boolean {
  return lastValue(o, name) !== null
}
