/** A running master's settings, from what /proc shows of it (see settings.ts for what can be seen). */
import { masterRecord, type MasterRecord } from '../../proc/master-record.js'
import { procInfo, readCwd, readEnviron, type ProcInfo } from '../../proc/procfs.js'
import type { Target } from '../types.js'
import { MASTER_TITLE, gunicornArgIndex } from './processes.js'
import { gunicornSettings, type GunicornSettings, type Known } from './settings.js'

export type MasterSettings = GunicornSettings & { record: MasterRecord | null }

/**
 * The settings of master `p`; `explicitConfig` is --server-config. When its process title hides
 * the command line (or setproctitle blanked its environment), the record the hook wrote at start
 * says what they were (proc/master-record.ts); `record` is then the one used.
 */
export function settingsOfProcess(p: ProcInfo, explicitConfig?: string): MasterSettings {
  const gi = MASTER_TITLE.test(p.cmdline) ? -1 : gunicornArgIndex(p.argv)
  const environ = readEnviron(p.pid)
  const env = environ && Object.keys(environ).length > 0 ? environ : null
  const record = gi < 0 || env === null ? masterRecord(p.pid) : null
  const recorded = record?.origArgv ?? record?.argv ?? []
  const recordGi = record ? gunicornArgIndex(recorded) : -1
  const settings = gunicornSettings({
    args: gi >= 0 ? p.argv.slice(gi + 1) : recordGi >= 0 ? recorded.slice(recordGi + 1) : null,
    env: env ?? (record && Object.keys(record.env).length > 0 ? record.env : null),
    // a relative -c or chdir is Gunicorn's start directory's, which the record kept
    cwd: gi < 0 && recordGi >= 0 && record ? record.cwd : readCwd(p.pid),
    explicitConfig,
  })
  return { ...settings, record: record && (gi >= 0 || recordGi >= 0) ? record : null }
}

/** The master's effective settings, or null when it is gone. */
export function settingsOf(target: Target): MasterSettings | null {
  const p = procInfo(target.masterPid)
  if (!p) return null
  return settingsOfProcess(p, typeof target.meta.configFile === 'string' ? target.meta.configFile : undefined)
}

/** Where a setting came from, for messages: `command line`, `config file /etc/gunicorn.conf.py`. */
export function source<T>(k: Known<T>, settings: GunicornSettings & { record?: MasterRecord | null }): string {
  const where = k.from === 'config file' ? `config file ${settings.configFile}` : k.from
  // the command line and GUNICORN_CMD_ARGS are the record's; a config file is read from disk now
  const recorded = k.from === 'command line' || k.from === 'GUNICORN_CMD_ARGS'
  return settings.record && recorded ? `${where}, as recorded by the hook when the master started (${settings.record.from})` : where
}
