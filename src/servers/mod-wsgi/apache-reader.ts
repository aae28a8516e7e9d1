/**
 * Reading one Apache configuration file into an ApacheConfig: continuation lines, <VirtualHost>
 * sections (for their ErrorLog), and the directives the mod_wsgi adapter cares about. Includes are
 * followed recursively; a file that cannot be read is listed in `unreadable`, never thrown.
 */
import { readTextOrNull } from '../shared/quiet-fs.js'
import type { ApacheConfig, DaemonDef, Located, ScriptDef } from './apache-config.js'
import { expandInclude } from './apache-includes.js'
import { keyValues, resolveConfigPath, substitute, tokenize } from './apache-words.js'

const MAX_FILES = 500
const MAX_INCLUDE_DEPTH = 16

/** Where the reading stands, across included files. */
export interface Reader {
  cfg: ApacheConfig
  /** Define'd variables over the Apache parent's environment, for ${VAR} */
  vars: Map<string, string>
  serverRoot: string
  /** the open <VirtualHost> blocks' error logs, and the daemons defined in them (filled in at </VirtualHost>) */
  vhosts: Array<{ errorLog: string | null; daemons: DaemonDef[] }>
  sections: string[]
}

function closeSection(r: Reader, line: string): void {
  const name = line.slice(2).replace(/>.*$/, '').trim().toLowerCase()
  if (name === 'virtualhost') {
    const v = r.vhosts.pop()
    if (v) for (const d of v.daemons) d.vhostErrorLog = v.errorLog
  }
  r.sections.pop()
}

function openSection(r: Reader, line: string): void {
  const name = (/^<\s*([^\s>]+)/.exec(line)?.[1] ?? '').toLowerCase()
  r.sections.push(name)
  if (name === 'virtualhost') r.vhosts.push({ errorLog: null, daemons: [] })
}

function scriptDef(at: Located, directive: ScriptDef['directive'], url: string | null, path: string, opts: Record<string, string>, serverRoot: string): ScriptDef {
  return {
    ...at,
    directive,
    url,
    path: resolveConfigPath(path, serverRoot),
    processGroup: opts['process-group'] ?? null,
    applicationGroup: opts['application-group'] ?? null,
  }
}

function applyDirective(r: Reader, words: string[], at: Located, depth: number): void {
  const { cfg } = r
  const directive = (words[0] ?? '').toLowerCase()
  const args = words.slice(1)
  switch (directive) {
    case 'serverroot':
      if (args[0]) r.serverRoot = args[0]
      cfg.serverRoot = r.serverRoot
      break
    case 'define':
      if (args[0]) r.vars.set(args[0], args[1] ?? '')
      break
    case 'include':
    case 'includeoptional': {
      const files = args[0] ? expandInclude(args[0], r.serverRoot) : []
      if (files.length === 0 && directive === 'include' && args[0]) cfg.unreadable.push(resolveConfigPath(args[0], r.serverRoot))
      for (const f of files) readConfigFile(r, f, depth + 1)
      break
    }
    case 'errorlog': {
      if (!args[0]) break
      const v = resolveConfigPath(args[0], r.serverRoot)
      const vh = r.vhosts[r.vhosts.length - 1]
      if (vh) vh.errorLog = v
      else cfg.errorLog = v
      break
    }
    case 'wsgidaemonprocess': {
      if (!args[0]) break
      const d: DaemonDef = { ...at, name: args[0], options: keyValues(args.slice(1)), vhostErrorLog: null }
      cfg.daemons.push(d)
      r.vhosts[r.vhosts.length - 1]?.daemons.push(d)
      break
    }
    case 'wsgiscriptalias':
    case 'wsgiscriptaliasmatch':
      if (args.length < 2) break
      cfg.scripts.push(
        scriptDef(at, directive === 'wsgiscriptalias' ? 'WSGIScriptAlias' : 'WSGIScriptAliasMatch', args[0] as string, args[1] as string, keyValues(args.slice(2)), r.serverRoot),
      )
      break
    case 'wsgiimportscript':
      if (!args[0]) break
      cfg.scripts.push(scriptDef(at, 'WSGIImportScript', null, args[0], keyValues(args.slice(1)), r.serverRoot))
      break
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

/** Read `file` (at include depth `depth`) into the reader's configuration. */
export function readConfigFile(r: Reader, file: string, depth: number): void {
  const { cfg } = r
  if (cfg.files.length >= MAX_FILES || depth > MAX_INCLUDE_DEPTH || cfg.files.includes(file)) return
  const text = readTextOrNull(file)
  if (text === null) {
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
    if (line.startsWith('</')) closeSection(r, line)
    else if (line.startsWith('<')) openSection(r, line)
    else applyDirective(r, tokenize(substitute(line, r.vars)), { file, line: lineNo }, depth)
  }
}
