/**
 * The master named by --master PID or --pidfile FILE (for mod_wsgi also --apache-pidfile FILE):
 * the prologue every adapter's resolve starts with, so every server says the same thing about it.
 */
import { TargetError, UsageError } from '../../errors.js'
import { procInfo, type ProcInfo } from '../../proc/procfs.js'
import type { Target, TargetOptions } from '../types.js'
import { readPidfile } from './pidfile.js'

export interface NamedMaster {
  /** the running process the flag names */
  proc: ProcInfo
  /** for messages: `--master 1234`, `--pidfile /run/app.pid`, `--apache-pidfile /run/apache2/apache2.pid` */
  flag: string
  via: Target['via']
}

/**
 * The process the options name, or null when they name none (then the group decides). With
 * `apachePidfile`, --apache-pidfile counts too. Throws TargetError for a bad or stale pidfile and
 * for a pid that is not running.
 */
export function namedMaster(opts: TargetOptions, { apachePidfile = false } = {}): NamedMaster | null {
  let pid: number
  let flag: string
  let via: Target['via']
  if (apachePidfile && opts.apachePidfile !== undefined) {
    pid = readPidfile(opts.apachePidfile, '--apache-pidfile')
    flag = `--apache-pidfile ${opts.apachePidfile}`
    via = 'pidfile'
  } else if (opts.master !== undefined || opts.pidfile !== undefined) {
    pid = opts.master ?? readPidfile(opts.pidfile as string)
    flag = opts.master !== undefined ? `--master ${pid}` : `--pidfile ${opts.pidfile}`
    via = opts.master !== undefined ? 'master' : 'pidfile'
  } else {
    return null
  }
  const proc = procInfo(pid)
  if (!proc) throw new TargetError(`${flag}: no process ${pid} is running`, 'no-master')
  return { proc, flag, via }
}

/** A --group given beside --master/--pidfile must be the group found there. */
export function checkGroupAgrees(opts: TargetOptions, flag: string, label: string, target: Target): void {
  if (opts.group !== undefined && opts.group !== target.group) {
    throw new UsageError(`${flag} is the ${label} group '${target.group}', not --group ${opts.group}: drop one of the two, or fix the name`)
  }
}

/** A process's command line, quoted and cut, for a "this is not the server" message. */
export function quotedCommandLine(p: ProcInfo): string {
  return JSON.stringify(p.cmdline.slice(0, 120))
}
