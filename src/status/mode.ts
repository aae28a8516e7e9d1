/** A group's mode and each worker's role, derived from the state file and the lock (pure). */
import type { GroupState } from '../state/state-file.js'
import type { GroupMode, WorkerRole } from './types.js'

/** The mode: a roll whose runner is dead was interrupted; a group no run has recorded was never rolled. */
export function modeOf(state: GroupState | null, runnerAlive: boolean): { mode: GroupMode; detail: string | null } {
  if (state?.errorResistance) return { mode: 'error-resistance', detail: `${state.errorResistance.reason}: ${state.errorResistance.message}` }
  if (state?.roll) {
    const r = state.roll
    if (!runnerAlive) return { mode: 'interrupted', detail: `run ${r.runPid} stopped at step ${r.done + 1} of ${r.total} without finishing` }
    return { mode: 'rolling', detail: `step ${Math.min(r.done + 1, r.total)} of ${r.total} (${r.strategy}, run ${r.runPid})` }
  }
  if (!state || state.runs.length === 0) return { mode: 'never rolled', detail: null }
  return { mode: 'normal', detail: null }
}

export function roleOf(pid: number, state: GroupState | null, rolling: boolean): WorkerRole {
  const record = state?.workers[String(pid)]
  if (record && !record.ready) return 'failed'
  const known = record !== undefined
  if (rolling && state?.roll) {
    if (state.roll.inFlight.includes(pid)) return 'being replaced'
    if (state.roll.oldPids.includes(pid)) return 'old'
    return known ? 'new' : 'booting'
  }
  return known ? 'new' : 'old'
}
