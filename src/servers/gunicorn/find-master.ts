/** --master, --pidfile or --group -> the Gunicorn master (arbiter) and its target. */
import { TargetError } from '../../errors.js'
import { allProcesses, type ProcInfo } from '../../proc/procfs.js'
import { logFileOf } from '../shared/master-log.js'
import { checkGroupAgrees, namedMaster, quotedCommandLine, type NamedMaster } from '../shared/named-master.js'
import type { Target, TargetOptions } from '../types.js'
import { namingOf } from './naming.js'
import { MASTER_TITLE, WORKER_TITLE, isGunicornMaster } from './processes.js'

function targetOf(p: ProcInfo, via: Target['via'], configFile?: string): Target {
  const naming = namingOf(p, configFile)
  const group = naming?.name ?? `gunicorn-${p.pid}`
  const titled = MASTER_TITLE.test(p.cmdline)
  return {
    server: 'gunicorn',
    group,
    masterPid: p.pid,
    masterStartTicks: p.startTicks,
    description: `Gunicorn master ${p.pid} [${group}]`,
    via,
    meta: {
      titled,
      // the log, while the master lives: what it said is read if it dies during the run (master-gone.ts)
      log: logFileOf(p.pid),
      ...(configFile !== undefined ? { configFile } : {}),
      ...(!titled && naming ? { found: `no process title; group from ${naming.from}` } : {}),
    },
  }
}

/** The master --master/--pidfile names; null when (auto) it is not Gunicorn. */
function namedTarget(opts: TargetOptions, { proc: p, flag, via }: NamedMaster): Target | null {
  if (!isGunicornMaster(p)) {
    if (opts.server !== 'gunicorn') return null
    throw new TargetError(
      `${flag}: process ${p.pid} is not a Gunicorn master (its command line is ${quotedCommandLine(p)})` +
        (WORKER_TITLE.test(p.cmdline) ? `; it is a worker: its master is pid ${p.ppid}` : ''),
      'not-master',
    )
  }
  const t = targetOf(p, via, opts.configFile)
  checkGroupAgrees(opts, flag, 'Gunicorn', t)
  return t
}

export function resolve(opts: TargetOptions): Target | null {
  const named = namedMaster(opts)
  if (named) return namedTarget(opts, named)
  if (opts.group === undefined) return null
  const masters = allProcesses().filter((p) => isGunicornMaster(p) && namingOf(p, opts.configFile)?.name === opts.group)
  if (masters.length === 0) return null
  // During a USR2 binary upgrade the new master is a child of the old one: both carry the name.
  if (masters.length > 1) {
    throw new TargetError(
      `--group ${opts.group} matches ${masters.length} Gunicorn masters (pids ${masters.map((m) => m.pid).join(', ')}); ` +
        `a USR2 upgrade may be in progress. Name one with --master PID or --pidfile FILE`,
      'ambiguous',
    )
  }
  return targetOf(masters[0] as ProcInfo, 'group', opts.configFile)
}

/** Every Gunicorn master among `procs`, named by its pid (resolve then reads its group). */
export function findAll(procs: readonly ProcInfo[]): TargetOptions[] {
  return procs.filter(isGunicornMaster).map((p) => ({ master: p.pid, server: 'gunicorn' }))
}

/** The running Gunicorn masters and their names, for the not-found error. */
export function notFoundHint(opts: TargetOptions): string | null {
  if (opts.group === undefined) return null
  const what =
    `a Gunicorn master titled 'gunicorn: master [${opts.group}]', or without a title one with proc_name = ${opts.group} ` +
    `in its -c config file or -n ${opts.group} on its command line`
  const masters = allProcesses().filter(isGunicornMaster)
  if (masters.length === 0) return what
  const names = masters.map((m) => {
    const n = namingOf(m, opts.configFile)
    return `'${n?.name ?? '?'}' (pid ${m.pid}, from ${n?.from ?? 'nothing readable'})`
  })
  return `${what}; running Gunicorn masters: ${names.join(', ')}`
}
