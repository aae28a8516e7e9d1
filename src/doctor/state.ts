/** doctor: the group's state file (readable, error-resistance mode, surplus) and whether a run holds its lock. */
import type { Resolved } from '../servers/resolve.js'
import type { Hazard } from '../servers/types.js'
import { holderAlive, lockPath, readHolder } from '../state/lock.js'
import { readState, stateKey, statePath, type GroupState } from '../state/state-file.js'

/** Where the state lives, and the target flags `resume` takes (for the fix text: `--group app:blue`). */
export interface StateWhere {
  dir: string
  targetFlags: string
}

export function safeState(resolved: Resolved, where: StateWhere): GroupState | null {
  try {
    return readState(where.dir, stateKey(resolved.target.server, resolved.target.group))
  } catch {
    return null
  }
}

export function stateHazards(resolved: Resolved, where: StateWhere): Hazard[] {
  const { target } = resolved
  const { dir } = where
  const key = stateKey(target.server, target.group)
  const out: Hazard[] = []
  let state: GroupState | null = null
  try {
    state = readState(dir, key)
  } catch (err) {
    out.push({
      id: 'state-corrupt',
      severity: 'error',
      message: (err as Error).message,
      fix: `move ${statePath(dir, key)} aside (the group then starts afresh, with no history)`,
    })
    return out
  }
  if (state?.errorResistance) {
    const er = state.errorResistance
    out.push({
      id: 'error-resistance',
      severity: 'error',
      message: `group '${target.group}' is in error-resistance mode since ${er.at} (${er.reason}): ${er.message}`,
      fix: `fix the cause, then \`rolling-restart resume ${where.targetFlags}\`; until then every run exits 5`,
    })
  }
  if (state && state.surplus > 0) {
    out.push({
      id: 'surplus',
      severity: 'warning',
      message: `the master runs ${state.surplus} worker(s) above its configured count, left by a failed surge step`,
      fix: 'the next successful run retires them',
    })
  }
  const holder = readHolder(lockPath(dir, key))
  if (holder && holder !== 'partial' && holderAlive(holder)) {
    out.push({
      id: 'run-in-progress',
      severity: 'warning',
      message: `a rolling-restart run (pid ${holder.pid}, since ${holder.since}) holds the lock on this group`,
      fix: 'wait for it: a second run now exits 5',
    })
  }
  return out
}

