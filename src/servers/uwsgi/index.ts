/**
 * uWSGI with --master. The master forks the workers and respawns any that exits, in the same slot.
 * How its processes are told apart: processes.ts and naming.ts.
 *
 * Signals (core/uwsgi.c, core/master.c, 2.0): SIGHUP to a worker runs gracefully_kill(): it finishes
 * the request in hand and exits, and the master respawns it in the same slot. A worker installs that
 * handler only after its app has loaded (with lazy-apps, after uwsgi_init_all_apps()); until then it
 * has the handlers it inherited, and a SIGHUP reaches the MASTER's handler and gracefully kills a
 * different worker. So a worker is signalled only once its SigCgt shows the worker's own handlers
 * (SIGUSR2 -> what_i_am_doing, which neither the master nor a booting worker catches). SIGTERM to the
 * master reloads everything unless die-on-term; SIGINT stops it. There is no way to ask the master
 * for one more worker on demand, so no surge.
 */
import { readSignalMasks, type ProcInfo } from '../../proc/procfs.js'
import type { Readiness } from '../../readiness/protocol.js'
import { logExitEvidence, markLog, readSinceMark, reloadLine } from '../shared/master-log.js'
import type { ServerAdapter, Target } from '../types.js'
import { appSpec } from './app-spec.js'
import { findAll, notFoundHint, resolve } from './find-master.js'
import { UWSGI_EXIT_RULES, UWSGI_RELOAD } from './exit-evidence.js'
import { hazards } from './hazards.js'
import { masterGoneHint, noReadyHint, wrongReleaseHint } from './hints.js'
import { workers, workersAmong } from './processes.js'
import { requestCounts } from './stats.js'

export { lazyOf } from './lazy-apps.js'
export { uwsgiEvidence, type UwsgiLogEvidence } from './log-evidence.js'
export { isCommandLine } from './processes.js'

const SIGHUP_BIT = 1n << 0n
const SIGUSR2_BIT = 1n << 11n

/** Why worker `w` must not get its SIGHUP yet (it still has the master's handlers), or null. */
function stillBooting(target: Target, w: ProcInfo): string | null {
  const wm = readSignalMasks(w.pid)
  const mm = readSignalMasks(target.masterPid)
  if (!wm || !mm) return null // gone: the roller sees that for itself
  if ((mm.caught & SIGUSR2_BIT) !== 0n) {
    return `cannot tell whether worker ${w.pid} has finished booting: its master catches SIGUSR2 too, which uWSGI's master does not normally do`
  }
  if ((wm.caught & SIGUSR2_BIT) !== 0n && (wm.caught & SIGHUP_BIT) !== 0n) return null
  return (
    `worker ${w.pid} has not finished booting (it does not have uWSGI's worker signal handlers yet): a SIGHUP now would reach ` +
    "the master's handler and stop a different worker"
  )
}

export const uwsgi: ServerAdapter = {
  kind: 'uwsgi',
  label: 'uWSGI',
  stopSignal: 'SIGHUP',
  canSurge: false,
  resolve,
  findAll,
  workers,
  workersAmong,
  stillBooting,
  notFoundHint,
  masterGoneHint,
  noReadyHint,
  wrongReleaseHint,
  hazards,
  appSpec,
  groupMatches(target: Target, r: Readiness): boolean {
    const procname = target.meta.procname as string | null
    return r.group === (procname ?? target.group)
  },
  exitEvidence: (target, pid) => logExitEvidence(target, pid, UWSGI_EXIT_RULES),
  logMark: markLog,
  reloadSince: (_target, mark) => reloadLine(readSinceMark(mark), UWSGI_RELOAD),
  requestCounts,
}
