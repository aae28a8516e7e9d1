/**
 * The name of a Gunicorn master's group: its proc_name, which with setproctitle titles it
 * `gunicorn: master [NAME]`. Without a title it is read the way Gunicorn sets it (config.py
 * proc_name, app/wsgiapp.py default_proc_name): -n on the command line, else --name in
 * GUNICORN_CMD_ARGS, else proc_name in the config file, else the app given on the command line,
 * else `gunicorn`. The hook reports the same name (GROUP is the worker's cfg.proc_name).
 */
import type { ProcInfo } from '../../proc/procfs.js'
import { MASTER_TITLE, gunicornArgIndex } from './processes.js'
import { settingsOfProcess } from './settings-of.js'

export interface GunicornNaming {
  name: string
  /** for messages: where the name was read */
  from: string
}

const FROM = {
  'command line': '-n on its command line',
  GUNICORN_CMD_ARGS: '--name in GUNICORN_CMD_ARGS',
  default: "Gunicorn's default (no proc_name is set)",
  unknown: 'the app on its command line (its proc_name could not be read)',
} as const

/** The group name of master `p`, or null when `p` is not running gunicorn. */
export function namingOf(p: ProcInfo, explicitConfig?: string): GunicornNaming | null {
  const title = MASTER_TITLE.exec(p.cmdline)
  if (title) return { name: title[1] ?? '', from: `its title '${p.cmdline}'` }
  if (gunicornArgIndex(p.argv) < 0) return null
  const settings = settingsOfProcess(p, explicitConfig)
  const { value, from } = settings.procName
  if (value !== null) return { name: value, from: from === 'config file' ? `proc_name in ${settings.configFile}` : FROM[from as keyof typeof FROM] }
  return { name: settings.defaultProcName, from: from === 'unknown' ? FROM.unknown : FROM.default }
}
