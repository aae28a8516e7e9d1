/**
 * What a finished run writes into the group's state file: the worker records, the surplus, the run
 * summary and, after a failure, error-resistance mode.
 */
import { entersErrorResistance } from '../roll/policy.js'
import { readyMs } from '../roll/records.js'
import type { RollOutcome } from '../roll/roller.js'
import type { Resolved } from '../servers/resolve.js'
import { nextReplacements } from './slots.js'
import { stateKey, updateState, type GroupState, type ReplacedEntry } from './state-file.js'

/** The runs kept in the state file, newest last. */
const RUNS_KEPT = 20

/** The state file's key and identity of the resolved group. */
export function groupKey(resolved: Resolved) {
  const { target } = resolved
  return { key: stateKey(target.server, target.group), group: target.group, server: target.server, masterPid: target.masterPid }
}

export function replacedEntries(outcome: RollOutcome): ReplacedEntry[] {
  return outcome.steps
    .filter((s) => s.state === 'ready')
    .map((s) => ({ oldPid: s.oldPid ?? 0, newPid: s.newPid ?? 0, readyMs: readyMs(s) ?? 0, status: s.status, release: s.release }))
}

/** Enter error-resistance mode for a failure outside a roll (preflight), recording the run. */
export function recordErrorResistance(dir: string, resolved: Resolved, what: { reason: string; message: string; untouched: number[] }): void {
  updateState(dir, groupKey(resolved), (s) => {
    s.errorResistance = {
      reason: what.reason,
      message: what.message,
      at: new Date().toISOString(),
      runPid: process.pid,
      oldPid: null,
      newPid: null,
      replaced: [],
      untouched: what.untouched,
      surplus: 0,
    }
    s.runs = [...s.runs, { at: new Date().toISOString(), ok: false, replaced: 0, aborted: what.reason, durationMs: 0 }].slice(-RUNS_KEPT)
  })
}

/** What error-resistance mode records instead of the roll's own abort (deploy says what its rollback did). */
export interface ErrorResistanceOverride {
  reason: string
  message: string
  untouched?: number[]
  replaced?: ReplacedEntry[]
}

/**
 * Write a finished roll into the state file: worker records, surplus, the run summary, and, for a
 * failure that was not an interruption, error-resistance mode. `errorResistance` overrides what is
 * recorded as the mode's reason and message (deploy says what its rollback did). Returns the
 * replaced workers.
 */
export function recordOutcome(
  dir: string,
  resolved: Resolved,
  outcome: RollOutcome,
  errorResistance?: ErrorResistanceOverride,
  also?: (s: GroupState) => void,
): ReplacedEntry[] {
  const replaced = replacedEntries(outcome)
  // an interruption or a reload under our feet is not the release's fault (roll/policy.ts)
  const enterErrorResistance = errorResistance !== undefined || (!outcome.ok && entersErrorResistance(outcome.aborted?.reason))
  const live = new Set(resolved.adapter.workers(resolved.target).map((w) => w.pid))
  updateState(dir, groupKey(resolved), (s) => {
    s.roll = null
    // before the dead workers' records go: a failed new worker's slot count is its predecessor's plus one
    recordFailedNewWorkers(s, outcome, live)
    // keep records only for workers that are still alive
    for (const pid of Object.keys(s.workers)) if (!live.has(Number(pid))) delete s.workers[pid]
    s.surplus = Math.max(0, s.surplus + outcome.surplus)
    if (enterErrorResistance) {
      const a = outcome.aborted
      s.errorResistance = {
        reason: errorResistance?.reason ?? a?.reason ?? 'internal',
        message: errorResistance?.message ?? a?.message ?? 'the run failed',
        at: new Date().toISOString(),
        runPid: process.pid,
        oldPid: a?.oldPid ?? null,
        newPid: a?.newPid ?? null,
        replaced: errorResistance?.replaced ?? replaced,
        untouched: errorResistance?.untouched ?? outcome.untouched,
        surplus: Math.max(0, outcome.surplus),
      }
    }
    s.runs = [
      ...s.runs,
      { at: new Date().toISOString(), ok: outcome.ok, replaced: replaced.length, aborted: outcome.aborted?.reason ?? null, durationMs: outcome.durationMs },
    ].slice(-RUNS_KEPT)
    also?.(s)
  })
  return replaced
}

/** A new worker that answered READY=0 (or the wrong release) is still running: say so in `status`. */
function recordFailedNewWorkers(s: GroupState, outcome: RollOutcome, live: Set<number>): void {
  for (const step of outcome.steps) {
    if (step.state === 'failed' && step.newPid !== null && step.status !== null && live.has(step.newPid)) {
      s.workers[String(step.newPid)] = {
        pid: step.newPid,
        ready: false,
        replacedPid: step.oldPid,
        readyAt: Date.now(),
        readyMs: null,
        bootMs: step.bootMs,
        status: step.status,
        release: step.release,
        root: null,
        slotReplacements: nextReplacements(s.workers, step.oldPid),
      }
    }
  }
}
