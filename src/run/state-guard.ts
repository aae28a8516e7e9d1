/**
 * A run and its state directory: nothing is acted on that cannot be recorded. The lock's files are
 * written, and the group's state record is written beside its file as a probe, before the first
 * signal; a directory that refuses them (full, read-only, not ours) ends the run with exit 3 and
 * nothing touched.
 */
import { EXIT } from '../errors.js'
import type { Output } from '../output/logger.js'
import { StepFailure } from '../roll/failure.js'
import type { RollOutcome } from '../roll/roller.js'
import type { Resolved } from '../servers/resolve.js'
import type { Target } from '../servers/types.js'
import { groupKey, replacedEntries } from '../state/record-outcome.js'
import { stateDirFault, type StateDirError } from '../state/state-fault.js'
import { probeStateWrite, updateState, type GroupState } from '../state/state-file.js'
import { lockGroup } from './guards.js'

/** The group's lock, or exit 3 when the state directory cannot hold its files. */
export async function lockOrFault(dir: string, target: Target, out: Output): ReturnType<typeof lockGroup> {
  try {
    return await lockGroup(dir, target, out)
  } catch (err) {
    throw stateDirFault(dir, err, { doing: 'taking the lock' }) ?? err
  }
}

/** Whether the directory takes the group's state record (probeStateWrite): if not, exit 3 now, before anything is touched. */
export function checkRecordable(dir: string, resolved: Resolved): void {
  probeStateWrite(dir, groupKey(resolved))
}

/**
 * The state file's writes during a roll, one at each transition, without fsync: they are in the
 * page cache, whole (rename), for `status` and for the run after a killed one, the moment they are
 * made, and what they record is the pids of running processes, which a power loss ends anyway.
 * The outcome (record-outcome.ts: error-resistance mode above all) is written durably. Two fsyncs
 * per write cost a 64-worker roll a few milliseconds between each READY and the next signal.
 * The first write the directory refuses stops the roll
 * before its next signal (the roll's abort signal fires with reason `state-write`; steps in flight
 * are seen through); writeFileAtomic has removed its temporary file, so the last good state file
 * stays whole. `stopped()` then tells the operator what was left, exit 4.
 */
export class RollRecorder {
  private readonly stop = new AbortController()
  private fault: StateDirError | null = null
  /** the state as the last progress write left it: the next one starts from it, not from a read of the file */
  private written: GroupState | undefined
  /** the roll's abort signal: Ctrl-C / SIGTERM, or a refused write */
  readonly signal: AbortSignal

  constructor(
    private readonly run: { dir: string; resolved: Resolved; out: Output; interrupt?: AbortSignal | undefined },
  ) {
    this.signal = run.interrupt ? AbortSignal.any([run.interrupt, this.stop.signal]) : this.stop.signal
  }

  /** false once a write has been refused (later ones are not tried: the roll is stopping) */
  record(fn: (s: GroupState) => void): boolean {
    if (this.fault) return false
    try {
      this.written = updateState(this.run.dir, groupKey(this.run.resolved), fn, false, this.written)
      return true
    } catch (err) {
      const fault = stateDirFault(this.run.dir, err)
      if (!fault) throw err
      this.fault = fault
      this.run.out.logger.error({ event: 'state-write-failed', errno: fault.errno }, fault.message)
      this.stop.abort(new StepFailure('state-write', `${fault.detail}; no further worker is signalled`))
      return false
    }
  }

  /** Before the roll: its first record was refused; nothing has been signalled. */
  refusedAtStart(): StateDirError | null {
    return this.fault?.retold('No worker was signalled', EXIT.TARGET, 'state-dir') ?? null
  }

  /** After the roll: the error that ends the run when a write was refused, or null. */
  stopped(outcome: RollOutcome): StateDirError | null {
    if (!this.fault) return null
    const replaced = replacedEntries(outcome)
    const after =
      `The roll stopped before its next signal, after ${replaced.length} of ${outcome.steps.length} workers` +
      (replaced.length ? ` (new: ${replaced.map((r) => r.newPid).join(', ')})` : '') +
      `; ${outcome.untouched.length} old worker(s) were not touched and keep serving (${outcome.untouched.join(', ') || 'none'}). ` +
      'This outcome could not be recorded, so the group is not in error-resistance mode: once the directory takes writes, run again to roll the rest'
    return this.fault.retold(after, EXIT.ABORTED, 'state-write')
  }
}
