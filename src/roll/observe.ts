/**
 * One look at the group's workers, taken in by the records: new workers, exits this run did not
 * cause, and what caused each new worker (attribution.ts). Logged as it is noticed. `verify`:
 * every worker's stat read now (before a signal, to judge a datagram); otherwise the last look
 * stands while the master's children are the same (look.ts). `children`: the master's children
 * as this round read them.
 */
import type { ProcInfo } from '../proc/procfs.js'
import { notice } from './attribution.js'
import { lookAtWorkers } from './look.js'
import { isWatched } from './records.js'
import { checkWorkerCount } from './reload-watch.js'
import type { RollRun } from './types.js'

export function observe(run: RollRun, verify: boolean, children?: number[] | null): ProcInfo[] {
  const { emit } = run.input
  const workers = lookAtWorkers(run, verify, children ?? undefined)
  const noticed = notice(run.records, workers, run.proc.bootTick, (pid) => isWatched(run.records, pid))
  for (const s of noticed.spawned) emit({ event: 'spawned', pid: s.pid, startTicks: s.startTicks })
  for (const g of noticed.gone) emit({ event: 'worker-gone', pid: g.pid, detail: 'exited on its own (this run did not stop it): its respawn is no step\'s replacement' })
  for (const { spawn, cause } of noticed.credited) {
    emit({ event: 'credited', pid: spawn.pid, startTicks: spawn.startTicks, step: cause.kind === 'step' ? cause.step : null, respawnOf: cause.kind === 'exit' ? cause.pid : null })
  }
  // a retired worker exits and is reaped in that order: until then it is listed, and is no reload's
  checkWorkerCount(run, workers.filter((w) => !run.records.retired.includes(w.pid)).length)
  return workers
}
