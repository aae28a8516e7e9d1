/**
 * A best-effort reader of an Apache httpd configuration, for the few things the mod_wsgi adapter
 * explains: the WSGIDaemonProcess groups, which scripts run in them and whether they are
 * preloaded, WSGIScriptReloading, SetEnv of our variables, and the error log.
 *
 * It follows Include / IncludeOptional (globs and directories, relative to ServerRoot) and
 * substitutes ${VAR} from Define and from the Apache parent's environment (Debian's envvars).
 * <IfModule>/<IfDefine> conditions are not evaluated: everything inside is read. It never throws;
 * files it could not read are listed in `unreadable`, so callers can say how sure they are.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { basename, isAbsolute, join } from 'node:path'

export interface Located {
  file: string
  line: number
}

export interface DaemonDef extends Located {
  name: string
  /** `key=value` options, keys lower-cased */
  options: Record<string, string>
  /** the error log of the <VirtualHost> it is defined in, when that sets one */
  vhostErrorLog: string | null
}

export interface ScriptDef extends Located {
  directive: 'WSGIScriptAlias' | 'WSGIScriptAliasMatch' | 'WSGIImportScript'
  url: string | null
  path: string
  processGroup: string | null
  applicationGroup: string | null
}

export interface ApacheConfig {
  mainFile: string
  serverRoot: string
  /** every file read, in order */
  files: string[]
  /** files or Include targets that could not be read */
  unreadable: string[]
  daemons: DaemonDef[]
  scripts: ScriptDef[]
  /** WSGIProcessGroup directives (they route requests; they never preload) */
  processGroups: Array<Located & { group: string }>
  /** the last WSGIScriptReloading directive, or null (mod_wsgi's default is On) */
  scriptReloading: (Located & { on: boolean }) | null
  /** the main server's ErrorLog, resolved against ServerRoot; null when not set */
  errorLog: string | null
  /** SetEnv lines for ROLLING_RESTART_* variables (they never reach daemon processes) */
  setEnv: Array<Located & { name: string; value: string }>
}

export interface ConfigLocation {
  file: string
  serverRoot: string
}

const MAX_FILES = 500
const MAX_INCLUDE_DEPTH = 16

/**
 * Which configuration file an Apache parent read, from its command line (`-f FILE`, `-d ROOT`)
 * and the compiled-in defaults of Debian's apache2 and Red Hat's httpd.
 */
export function configLocation(argv: string[], env: Record<string, string>, exe: string | null): ConfigLocation {
  let file: string | null = null
  let root: string | null = null
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '-f' || a === '-d') {
      const v = argv[i + 1]
      if (v !== undefined) {
        if (a === '-f') file = v
        else root = v
        i++
      }
    } else if (a.startsWith('-f') && a.length > 2) file = a.slice(2)
    else if (a.startsWith('-d') && a.length > 2) root = a.slice(2)
  }
  const name = basename(exe ?? argv[0]?.trim() ?? 'apache2')
  const httpd = /httpd/.test(name)
  const serverRoot = root ?? (httpd ? '/etc/httpd' : (env.APACHE_CONFDIR ?? '/etc/apache2'))
  const conf = file ?? (httpd ? 'conf/httpd.conf' : 'apache2.conf')
  return { file: isAbsolute(conf) ? conf : join(serverRoot, conf), serverRoot }
}

/** Split one directive line into words, honouring "double" and 'single' quotes. */
export function tokenize(line: string): string[] {
  const out: string[] = []
  let i = 0
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i] as string)) i++
    if (i >= line.length) break
    const q = line[i]
    if (q === '"' || q === "'") {
      let word = ''
      i++
      while (i < line.length && line[i] !== q) {
        if (line[i] === '\\' && line[i + 1] === q) i++
        word += line[i]
        i++
      }
      i++
      out.push(word)
    } else {
      let word = ''
      while (i < line.length && !/\s/.test(line[i] as string)) word += line[i++]
      out.push(word)
    }
  }
  return out
}

/** `key=value` words after the positional ones. */
export function keyValues(words: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const w of words) {
    const eq = w.indexOf('=')
    if (eq > 0) out[w.slice(0, eq).toLowerCase()] = w.slice(eq + 1)
  }
  return out
}

function globToRegExp(segment: string): RegExp {
  let re = ''
  for (const ch of segment) {
    if (ch === '*') re += '[^/]*'
    else if (ch === '?') re += '[^/]'
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

const hasWildcard = (s: string) => /[*?]/.test(s)

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

function filesUnder(dir: string, depth = 0): string[] {
  if (depth > 8) return []
  let names: string[]
  try {
    names = readdirSync(dir).sort()
  } catch {
    return []
  }
  const out: string[] = []
  for (const n of names) {
    const p = join(dir, n)
    if (isDir(p)) out.push(...filesUnder(p, depth + 1))
    else out.push(p)
  }
  return out
}

/** The files an Include pattern names: a file, a directory (every file below it), or a glob. */
export function expandInclude(pattern: string, serverRoot: string): string[] {
  const abs = isAbsolute(pattern) ? pattern : join(serverRoot, pattern)
  if (!hasWildcard(abs)) {
    if (isDir(abs)) return filesUnder(abs)
    return isFile(abs) ? [abs] : []
  }
  let bases = ['/']
  for (const seg of abs.split('/').filter(Boolean)) {
    const next: string[] = []
    for (const base of bases) {
      if (!hasWildcard(seg)) {
        next.push(join(base, seg))
        continue
      }
      const re = globToRegExp(seg)
      let names: string[] = []
      try {
        names = readdirSync(base).sort()
      } catch {
        continue
      }
      for (const n of names) if (re.test(n) && (!n.startsWith('.') || seg.startsWith('.'))) next.push(join(base, n))
    }
    bases = next
  }
  return bases.filter(isFile)
}

function substitute(value: string, vars: Map<string, string>): string {
  return value.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => vars.get(name) ?? whole)
}

/** Resolve a path from the configuration against ServerRoot (piped loggers and syslog stay as they are). */
export function resolveConfigPath(value: string, serverRoot: string): string {
  if (value.startsWith('|') || /^syslog(:|$)/i.test(value) || isAbsolute(value)) return value
  return join(serverRoot, value)
}

/** Read the configuration at `loc`, following its includes. */
export function readApacheConfig(loc: ConfigLocation, env: Record<string, string> = {}): ApacheConfig {
  const cfg: ApacheConfig = {
    mainFile: loc.file,
    serverRoot: loc.serverRoot,
    files: [],
    unreadable: [],
    daemons: [],
    scripts: [],
    processGroups: [],
    scriptReloading: null,
    errorLog: null,
    setEnv: [],
  }
  const vars = new Map<string, string>(Object.entries(env))
  let serverRoot = loc.serverRoot
  let mainErrorLog: string | null = null
  // the open <VirtualHost> blocks' error logs, and the daemons defined in them (filled in at </VirtualHost>)
  const vhosts: Array<{ errorLog: string | null; daemons: DaemonDef[] }> = []
  const sections: string[] = []

  const readFile = (file: string, depth: number): void => {
    if (cfg.files.length >= MAX_FILES || depth > MAX_INCLUDE_DEPTH || cfg.files.includes(file)) return
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      cfg.unreadable.push(file)
      return
    }
    cfg.files.push(file)
    const raw = text.split('\n')
    for (let n = 0; n < raw.length; n++) {
      const lineNo = n + 1
      let line = raw[n] as string
      while (/\\\s*$/.test(line) && n + 1 < raw.length) line = line.replace(/\\\s*$/, ' ') + (raw[++n] as string)
      line = line.trim()
      if (!line || line.startsWith('#')) continue
      if (line.startsWith('</')) {
        const name = line.slice(2).replace(/>.*$/, '').trim().toLowerCase()
        if (name === 'virtualhost') {
          const v = vhosts.pop()
          if (v) for (const d of v.daemons) d.vhostErrorLog = v.errorLog
        }
        sections.pop()
        continue
      }
      if (line.startsWith('<')) {
        const name = (/^<\s*([^\s>]+)/.exec(line)?.[1] ?? '').toLowerCase()
        sections.push(name)
        if (name === 'virtualhost') vhosts.push({ errorLog: null, daemons: [] })
        continue
      }
      const words = tokenize(substitute(line, vars))
      const directive = (words[0] ?? '').toLowerCase()
      const args = words.slice(1)
      const at = { file, line: lineNo }
      switch (directive) {
        case 'serverroot':
          if (args[0]) serverRoot = args[0]
          cfg.serverRoot = serverRoot
          break
        case 'define':
          if (args[0]) vars.set(args[0], args[1] ?? '')
          break
        case 'include':
        case 'includeoptional': {
          const files = args[0] ? expandInclude(args[0], serverRoot) : []
          if (files.length === 0 && directive === 'include' && args[0]) cfg.unreadable.push(resolveConfigPath(args[0], serverRoot))
          for (const f of files) readFile(f, depth + 1)
          break
        }
        case 'errorlog': {
          if (!args[0]) break
          const v = resolveConfigPath(args[0], serverRoot)
          const vh = vhosts[vhosts.length - 1]
          if (vh) vh.errorLog = v
          else mainErrorLog = v
          break
        }
        case 'wsgidaemonprocess': {
          if (!args[0]) break
          const d: DaemonDef = { ...at, name: args[0], options: keyValues(args.slice(1)), vhostErrorLog: null }
          cfg.daemons.push(d)
          vhosts[vhosts.length - 1]?.daemons.push(d)
          break
        }
        case 'wsgiscriptalias':
        case 'wsgiscriptaliasmatch': {
          if (args.length < 2) break
          const opts = keyValues(args.slice(2))
          cfg.scripts.push({
            ...at,
            directive: directive === 'wsgiscriptalias' ? 'WSGIScriptAlias' : 'WSGIScriptAliasMatch',
            url: args[0] as string,
            path: resolveConfigPath(args[1] as string, serverRoot),
            processGroup: opts['process-group'] ?? null,
            applicationGroup: opts['application-group'] ?? null,
          })
          break
        }
        case 'wsgiimportscript': {
          if (!args[0]) break
          const opts = keyValues(args.slice(1))
          cfg.scripts.push({
            ...at,
            directive: 'WSGIImportScript',
            url: null,
            path: resolveConfigPath(args[0], serverRoot),
            processGroup: opts['process-group'] ?? null,
            applicationGroup: opts['application-group'] ?? null,
          })
          break
        }
        case 'wsgiprocessgroup':
          if (args[0]) cfg.processGroups.push({ ...at, group: args[0] })
          break
        case 'wsgiscriptreloading':
          if (args[0]) cfg.scriptReloading = { ...at, on: args[0].toLowerCase() === 'on' }
          break
        case 'setenv':
          if (args[0]?.startsWith('ROLLING_RESTART_')) cfg.setEnv.push({ ...at, name: args[0], value: args[1] ?? '' })
          break
      }
    }
  }

  readFile(loc.file, 0)
  cfg.errorLog = mainErrorLog
  return cfg
}

/** The scripts that run in daemon group `group`, and whether one of them is loaded when a process starts. */
export function scriptsOf(cfg: ApacheConfig, group: string): { scripts: ScriptDef[]; preloaded: ScriptDef[]; routedOnly: ScriptDef[] } {
  const scripts = cfg.scripts.filter((s) => s.processGroup === group)
  // mod_wsgi preloads a script only when it knows both groups up front: WSGIImportScript, or
  // WSGIScriptAlias with process-group= and application-group= (not the Match variant, whose
  // groups may hold substitutions).
  const preloaded = scripts.filter((s) => s.applicationGroup !== null && (s.directive === 'WSGIImportScript' || s.directive === 'WSGIScriptAlias'))
  // scripts routed to the group by a WSGIProcessGroup directive (never preloaded)
  const routedOnly = cfg.processGroups.some((p) => p.group === group) ? cfg.scripts.filter((s) => s.processGroup === null && s.directive !== 'WSGIImportScript') : []
  return { scripts, preloaded, routedOnly }
}

/** Where the group's daemon processes log: their <VirtualHost>'s ErrorLog, else the main one, else the default. */
export function errorLogOf(cfg: ApacheConfig, group: string | null): string {
  const d = group !== null ? cfg.daemons.find((x) => x.name === group) : undefined
  // httpd's compiled-in default, relative to ServerRoot
  return d?.vhostErrorLog ?? cfg.errorLog ?? resolveConfigPath('logs/error_log', cfg.serverRoot)
}

export const where = (l: Located): string => `${l.file}:${l.line}`
