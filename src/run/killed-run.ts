/**
 * What an earlier run left when it was killed (SIGKILL, a crash, a reboot) in the middle of a roll:
 * its roll record is still in the state file. The next run, which holds the lock, so that run is
 * surely gone, says in words what it left (the step it reached, the workers still on the code from
 * before it), not only in the JSON log.
 */
import type { Output } from '../output/logger.js'
import type { LockHolder } from '../state/lock.js'
import type { GroupState } from '../state/state-file.js'

/** The note, or null when the last run finished. `live`: the group's workers now. Pure. */
export function unfinishedRunNote(prior: GroupState | null, live: ReadonlySet<number>, recovered: LockHolder | null): string | null {
  const r = prior?.roll
  if (!r) return recovered ? `a previous run (pid ${recovered.pid}, since ${recovered.since}) died holding the lock before it signalled any worker` : null
  const how = recovered?.pid === r.runPid ? 'was killed (it left its lock behind)' : 'did not finish (killed, or stopped before it could record its end)'
  const stillOld = r.oldPids.filter((p) => live.has(p))
  const inFlight = r.inFlight.filter((p) => p !== 0)
  return (
    `the previous run (pid ${r.runPid}, started ${r.startedAt}) ${how} at step ${Math.min(r.done + 1, r.total)} of ${r.total}, ` +
    `after ${r.done} replaced: ${stillOld.length} worker(s) still run the code from before it (${stillOld.join(', ') || 'none'})` +
    // in flight: signalled, or about to be (the state file names a step's worker just before its signal)
    (inFlight.length ? `; it was replacing ${inFlight.join(', ')}` : '') +
    '. This run starts from the workers there are now'
  )
}

/** Say it, on the terminal and in the log. */
export function tellUnfinishedRun(out: Output, prior: GroupState | null, live: ReadonlySet<number>, recovered: LockHolder | null): void {
  const note = unfinishedRunNote(prior, live, recovered)
  if (note === null) return
  out.logger.warn({ event: 'previous-run-unfinished', roll: prior?.roll ?? null, lockHolder: recovered }, note)
  out.progress(`warning: ${note}`)
}
