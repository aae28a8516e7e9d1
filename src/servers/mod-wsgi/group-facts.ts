/** What the Apache configuration says about one daemon group: its scripts, preloading, the hook line, the log. */
import { scriptHasHook } from '../shared/script-hook.js'
import type { Target } from '../types.js'
import { errorLogOf, scriptsOf, where, type ApacheConfig, type ScriptDef } from './apache-config.js'
import { configOf } from './apache-processes.js'

/** The line a group's WSGI script must end with. */
export const HOOK_LINE = 'from rolling_restart_hook.mod_wsgi import notify_ready; notify_ready(application)'

/** What the configuration says about one WSGIDaemonProcess group. */
export interface DaemonGroupFacts {
  cfg: ApacheConfig | null
  errorLog: string | null
  defined: boolean
  scripts: ScriptDef[]
  preloaded: ScriptDef[]
  routedOnly: ScriptDef[]
  /** scripts of the group that can be read and lack the hook line */
  withoutHook: ScriptDef[]
  /** scripts of the group that could not be read */
  unreadableScripts: ScriptDef[]
}

export function daemonGroupFacts(target: Target): DaemonGroupFacts {
  const cfg = configOf(target.masterPid)
  if (!cfg || cfg.files.length === 0) {
    return { cfg, errorLog: null, defined: false, scripts: [], preloaded: [], routedOnly: [], withoutHook: [], unreadableScripts: [] }
  }
  const { scripts, preloaded, routedOnly } = scriptsOf(cfg, target.group)
  const checked = (preloaded.length ? preloaded : scripts).map((s) => ({ s, hook: scriptHasHook(s.path) }))
  return {
    cfg,
    errorLog: errorLogOf(cfg, target.group),
    defined: cfg.daemons.some((d) => d.name === target.group),
    scripts,
    preloaded,
    routedOnly,
    withoutHook: checked.filter((c) => c.hook === false).map((c) => c.s),
    unreadableScripts: checked.filter((c) => c.hook === null).map((c) => c.s),
  }
}

export function describeScript(s: ScriptDef): string {
  return s.directive === 'WSGIImportScript' ? `WSGIImportScript ${s.path} (${where(s)})` : `${s.directive} ${s.url} ${s.path} (${where(s)})`
}
