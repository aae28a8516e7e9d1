/** A running master's settings, from what /proc shows of it (see settings.ts for what can be seen). */
import { procInfo, readCwd, readEnviron, type ProcInfo } from '../../proc/procfs.js'
import type { Target } from '../types.js'
import { MASTER_TITLE, gunicornArgIndex } from './processes.js'
import { gunicornSettings, type GunicornSettings, type Known } from './settings.js'

/** The settings of master `p`; `explicitConfig` is --server-config. */
export function settingsOfProcess(p: ProcInfo, explicitConfig?: string): GunicornSettings {
  const gi = MASTER_TITLE.test(p.cmdline) ? -1 : gunicornArgIndex(p.argv)
  const env = readEnviron(p.pid)
  return gunicornSettings({
    args: gi >= 0 ? p.argv.slice(gi + 1) : null,
    env: env && Object.keys(env).length > 0 ? env : null,
    cwd: readCwd(p.pid),
    explicitConfig,
  })
}

/** The master's effective settings, or null when it is gone. */
export function settingsOf(target: Target): GunicornSettings | null {
  const p = procInfo(target.masterPid)
  if (!p) return null
  return settingsOfProcess(p, typeof target.meta.configFile === 'string' ? target.meta.configFile : undefined)
}

/** Where a setting came from, for messages: `command line`, `config file /etc/gunicorn.conf.py`. */
export function source<T>(k: Known<T>, settings: GunicornSettings): string {
  return k.from === 'config file' ? `config file ${settings.configFile}` : k.from
}
