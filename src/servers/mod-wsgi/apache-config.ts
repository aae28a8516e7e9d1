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
import { basename, isAbsolute, join } from 'node:path'
import { readConfigFile } from './apache-reader.js'
import { resolveConfigPath } from './apache-words.js'

export { expandInclude } from './apache-includes.js'
export { keyValues, resolveConfigPath, tokenize } from './apache-words.js'

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
  readConfigFile({ cfg, vars: new Map(Object.entries(env)), serverRoot: loc.serverRoot, vhosts: [], sections: [] }, loc.file, 0)
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
