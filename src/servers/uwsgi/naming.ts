/** The group name of a uWSGI master: procname-master, else a procname prefix, else the name of its config. */
import { basename, extname } from 'node:path'
import { readCwd, type ProcInfo } from '../../proc/procfs.js'
import { lastValue, parseCommandLine, type UwsgiOptions } from './options.js'
import { isCommandLine } from './processes.js'

const PREFIXED_MASTER = /^(.*\S) ?uWSGI master$/

export interface Naming {
  /** procname-master, when the title is it (the hook reports it as GROUP) */
  procname: string | null
  /** the group name: procname, else a procname prefix, else the config's name */
  group: string
  titled: boolean
}

function nameFromOptions(o: UwsgiOptions): string | null {
  const ini = o.iniFiles[0]
  if (ini) return basename(ini, extname(ini))
  const module = lastValue(o, 'module') ?? lastValue(o, 'wsgi')
  if (module) return module
  const file = lastValue(o, 'wsgi-file') ?? lastValue(o, 'file')
  return file ? basename(file, extname(file)) : null
}

export function namingOf(p: ProcInfo): Naming {
  if (isCommandLine(p.argv)) {
    const o = parseCommandLine(p.argv, readCwd(p.pid) ?? '/')
    const procname = lastValue(o, 'procname-master')
    return { procname, group: procname ?? nameFromOptions(o) ?? `uwsgi-${p.pid}`, titled: false }
  }
  const prefixed = PREFIXED_MASTER.exec(p.cmdline)
  if (prefixed) return { procname: null, group: prefixed[1] as string, titled: true }
  if (/uWSGI master/.test(p.cmdline)) return { procname: null, group: `uwsgi-${p.pid}`, titled: true }
  return { procname: p.cmdline, group: p.cmdline, titled: true }
}
