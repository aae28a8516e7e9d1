/** What can be known of a running uWSGI master's configuration: its options, its log, lazy-apps. */
import { procInfo, readCwd, readEnviron, type ProcInfo } from '../../proc/procfs.js'
import { readTail } from '../shared/log-tail.js'
import { logFileOf } from '../shared/master-log.js'
import type { Target } from '../types.js'
import { lazyOf, type LazyFacts } from './lazy-apps.js'
import { addEnvOptions, emptyOptions, lastValue, parseCommandLine, readIni, type UwsgiOptions } from './options.js'
import { isCommandLine } from './processes.js'
import { recordedOptions } from './recorded-options.js'

/** The line a uWSGI WSGI module must end with. */
export const HOOK_LINE = 'from rolling_restart_hook.uwsgi import notify_ready; application = notify_ready(application)'

export { logFileOf }

/**
 * Options as far as they can be known: the command line when untitled, else what the hook recorded
 * when the app was loaded, else an ini named by --server-config or by the log.
 */
export function optionsOf(p: ProcInfo, configFile: string | null, log: string | null): { options: UwsgiOptions; complete: boolean } {
  const cwd = readCwd(p.pid) ?? '/'
  if (isCommandLine(p.argv)) {
    const options = parseCommandLine(p.argv, cwd)
    const env = readEnviron(p.pid)
    if (env) addEnvOptions(options, env)
    if (configFile) readIni(options, configFile, cwd)
    return { options, complete: options.unread.length === 0 }
  }
  const recorded = recordedOptions(p.pid)
  if (recorded) return { options: recorded, complete: true }
  const options = emptyOptions()
  if (configFile) readIni(options, configFile, cwd)
  else if (log) {
    const text = readTail(log)
    const all = text ? [...text.matchAll(/getting INI configuration from (\S+)/g)] : []
    const ini = all[all.length - 1]?.[1]
    if (ini) readIni(options, ini, cwd)
  }
  return { options, complete: false }
}

export interface MasterFacts {
  options: UwsgiOptions
  complete: boolean
  log: string | null
  lazy: LazyFacts
}

export function factsOf(target: Target): MasterFacts {
  const p = procInfo(target.masterPid)
  const log = (target.meta.log as string | null) ?? logFileOf(target.masterPid)
  const configFile = (target.meta.configFile as string | null) ?? null
  const { options, complete } = p ? optionsOf(p, configFile, log) : { options: emptyOptions(), complete: false }
  return { options, complete, log, lazy: lazyOf(target.masterPid, options, complete, log) }
}

/** The WSGI file the options name, if any. */
export function scriptOf(o: UwsgiOptions): string | null {
  return lastValue(o, 'wsgi-file') ?? lastValue(o, 'file')
}
