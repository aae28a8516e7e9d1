/** --master, --pidfile or --group -> the uWSGI master and its target; and why --group found none. */
import { TargetError } from '../../errors.js'
import { allProcesses, childrenOf, type ProcInfo } from '../../proc/procfs.js'
import { clip } from '../shared/log-tail.js'
import { checkGroupAgrees, namedMaster, quotedCommandLine, type NamedMaster } from '../shared/named-master.js'
import type { Target, TargetOptions } from '../types.js'
import { logFileOf, optionsOf } from './master-facts.js'
import { namingOf } from './naming.js'
import { lastValue } from './options.js'
import { OTHER_TITLE, WORKER_TITLE, isChildOfMaster, isUwsgiMaster, isUwsgiProcess } from './processes.js'

/** Options whose processes are children of the master too, and look like workers when nothing is titled. */
const NON_WORKER_OPTIONS = ['mule', 'mules', 'farm', 'spooler', 'spooler-processes', 'http', 'https', 'fastrouter', 'rawrouter', 'sslrouter', 'http-processes']

function targetOf(p: ProcInfo, via: Target['via'], configFile: string | null): Target {
  const naming = namingOf(p)
  const titledWorkers = childrenOf(p.pid).some((c) => WORKER_TITLE.test(c.cmdline))
  const log = logFileOf(p.pid)
  if (!titledWorkers) {
    const { options } = optionsOf(p, configFile, log)
    const helpers = NON_WORKER_OPTIONS.filter((o) => lastValue(options, o) !== null)
    if (helpers.length) {
      throw new TargetError(
        `uWSGI master ${p.pid} also runs ${helpers.map((h) => `--${h}`).join(', ')} processes, and no process has a title, so its ` +
          "workers cannot be told from them: add auto-procname = true (workers are then titled 'uWSGI worker N') or procname-master = NAME, and restart uWSGI",
        'untitled-workers',
      )
    }
  }
  return {
    server: 'uwsgi',
    group: naming.group,
    masterPid: p.pid,
    masterStartTicks: p.startTicks,
    description: `uWSGI master ${p.pid} [${naming.group}]`,
    via,
    meta: {
      procname: naming.procname,
      titledWorkers,
      log,
      configFile,
      found: naming.titled ? `master titled '${p.cmdline}'` : `master running ${clip(p.cmdline, 80)}`,
    },
  }
}

function describeNotMaster(p: ProcInfo, flag: string): string | null {
  if (WORKER_TITLE.test(p.cmdline) || (isChildOfMaster(p) && !OTHER_TITLE.test(p.cmdline))) {
    return `${flag}: process ${p.pid} is a uWSGI worker; its master is pid ${p.ppid}: use --master ${p.ppid}`
  }
  if (OTHER_TITLE.test(p.cmdline)) return `${flag}: process ${p.pid} is a uWSGI helper (${p.cmdline}); its master is pid ${p.ppid}`
  return null
}

/** The master --master/--pidfile names; null when (auto) it is not uWSGI. */
function namedTarget(opts: TargetOptions, { proc: p, flag, via }: NamedMaster, configFile: string | null): Target | null {
  if (!isUwsgiProcess(p)) {
    if (opts.server !== 'uwsgi') return null
    throw new TargetError(`${flag}: process ${p.pid} is not uWSGI (its command line is ${quotedCommandLine(p)})`, 'not-master')
  }
  const notMaster = describeNotMaster(p, flag)
  if (notMaster) throw new TargetError(notMaster, 'not-master')
  if (!isUwsgiMaster(p)) {
    throw new TargetError(
      `${flag}: uWSGI process ${p.pid} has no workers: it runs without --master (then nothing respawns a stopped worker), or it is an Emperor: ` +
        'name the master of the instance to restart',
      'not-master',
    )
  }
  const t = targetOf(p, via, configFile)
  checkGroupAgrees(opts, flag, 'uWSGI', t)
  return t
}

export function resolve(opts: TargetOptions): Target | null {
  if (opts.apachePidfile !== undefined) return null
  const configFile = opts.configFile ?? null
  const named = namedMaster(opts)
  if (named) return namedTarget(opts, named, configFile)
  if (opts.group === undefined) return null
  const masters = allProcesses().filter((p) => isUwsgiProcess(p) && !isChildOfMaster(p) && namingOf(p).group === opts.group && isUwsgiMaster(p))
  if (masters.length === 0) return null
  if (masters.length > 1) {
    throw new TargetError(
      `--group ${opts.group} matches ${masters.length} uWSGI masters (pids ${masters.map((m) => m.pid).join(', ')}): name one with --pidfile FILE or --master PID`,
      'ambiguous',
    )
  }
  return targetOf(masters[0] as ProcInfo, 'group', configFile)
}

/** Every uWSGI master among `procs` (not its workers or helpers, not an Emperor), named by its pid. */
export function findAll(procs: readonly ProcInfo[]): TargetOptions[] {
  return procs.filter((p) => isUwsgiProcess(p) && !isChildOfMaster(p) && isUwsgiMaster(p)).map((p) => ({ master: p.pid, server: 'uwsgi' }))
}

export function notFoundHint(opts: TargetOptions): string | null {
  if (opts.group === undefined) return null
  const masters = allProcesses().filter((p) => isUwsgiProcess(p) && !isChildOfMaster(p) && isUwsgiMaster(p))
  if (masters.length === 0) return null
  const names = masters.map((m) => `'${namingOf(m).group}' (pid ${m.pid})`)
  return (
    `a uWSGI master named ${opts.group} (procname-master = ${opts.group} titles it so): none; running uWSGI masters are ${names.join(', ')}. ` +
    '--group takes the procname-master name; without one, use --pidfile or --master'
  )
}
