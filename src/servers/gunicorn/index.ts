/**
 * Gunicorn. The master (arbiter) forks the workers; with python3-setproctitle their titles are
 * `gunicorn: master [NAME]` and `gunicorn: worker [NAME]`, NAME being the proc_name setting.
 *
 * Signals (gunicorn/arbiter.py, 20.1): TERM to a worker is graceful (it finishes its request and
 * exits; the master spawns a replacement). TTIN to the master raises the worker count by one and
 * spawns at once; TTOU lowers it and TERMs the oldest worker (by spawn order). The master keeps at
 * most 5 queued signals and drops the rest, so master signals are sent one at a time and verified.
 * HUP to a *worker* kills it at once: never sent.
 */
import { TargetError } from '../../errors.js'
import { signal } from '../../proc/procfs.js'
import { logExitEvidence, markLog, readSinceMark, reloadLine } from '../shared/master-log.js'
import type { ServerAdapter, Target } from '../types.js'
import { appSpec } from './app-spec.js'
import { findAll, notFoundHint, resolve } from './find-master.js'
import { hazards } from './hazards.js'
import { GUNICORN_EXIT_RULES, GUNICORN_RELOAD } from './log-evidence.js'
import { masterGoneHint, noReadyHint, wrongReleaseHint } from './hints.js'
import { whyNotThroughMaster } from './drain-on-term.js'
import { masterStopping } from './master-gone.js'
import { workers, workersAmong } from './processes.js'

function masterSignal(target: Target, sig: NodeJS.Signals): void {
  const outcome = signal(target.masterPid, sig)
  if (outcome === 'denied') {
    throw new TargetError(`not permitted to signal ${target.description}: run as its user or root`, 'denied')
  }
  if (outcome === 'gone') throw new TargetError(`${target.description} is gone`, 'master-gone')
}

export const gunicorn: ServerAdapter = {
  kind: 'gunicorn',
  label: 'Gunicorn',
  stopSignal: 'SIGTERM',
  canSurge: true,
  resolve,
  findAll,
  workers,
  workersAmong,
  notFoundHint,
  surgeUp(target: Target): void {
    masterSignal(target, 'SIGTTIN')
  },
  surgeDown(target: Target): void {
    masterSignal(target, 'SIGTTOU')
  },
  whyNotThroughMaster,
  masterGoneHint,
  noReadyHint,
  wrongReleaseHint,
  appSpec,
  hazards,
  exitEvidence: (target, pid) => logExitEvidence(target, pid, GUNICORN_EXIT_RULES),
  logMark: markLog,
  reloadSince: (_target, mark) => reloadLine(readSinceMark(mark), GUNICORN_RELOAD),
  stopping: masterStopping,
  requestCounts: async () => ({
    byPid: null,
    why: 'not exposed by Gunicorn: a worker counts its requests for max_requests only, and nothing outside it can read the count',
  }),
}
