/**
 * What a run is given and what it hands back. Data only: the step machine (roller.ts) re-exports
 * these for its callers.
 */
import type { MinReady, Strategy } from '../config.js'
import type { bootTick } from '../proc/boot-clock.js'
import type * as procfs from '../proc/procfs.js'
import type { ProcInfo } from '../proc/procfs.js'
import type { Readiness } from '../readiness/protocol.js'
import type { ReadinessListener } from '../readiness/listener.js'
import type { LogMark } from '../servers/shared/master-log.js'
import type { ServerAdapter, Target } from '../servers/types.js'
import type { Emit } from './events.js'
import type { StepFailure } from './failure.js'
import type { LookState } from './look.js'
import type { RollRecords, StepRecord } from './records.js'

export interface RollOptions {
  strategy: Strategy
  /**
   * replace through the master (TTIN, then TTOU: it stops its oldest worker), so that the old
   * worker's exit overlaps its replacement's boot; only for a master that can (canSurge) and a
   * selection of the oldest workers (handover-step.ts)
   */
  handover?: boolean | undefined
  batch: number
  readyTimeoutMs: number
  drainTimeoutMs: number
  masterReactTimeoutMs: number
  pollIntervalMs: number
  acceptBareOk: boolean
  /** returns why a ready worker's code is not the expected release, or null when it is */
  checkRelease?: ((r: Readiness) => string | null) | undefined
  /** extra workers left by an earlier failed surge, retired (TTOU) once this run has succeeded */
  surplusToRetire: number
  /** --min-ready: how long the accepted replacements must stay up after their READY before the run may end */
  minReady: MinReady
  /** --wait-min-ready: start a step only once every accepted replacement has been up for its minReady window */
  waitMinReady: boolean
  /** --recycle: a replacement that reports PRELOAD=1 (the master's code) is accepted, with no release claimed for it */
  recycle?: boolean | undefined
}

export interface Aborted {
  reason: AbortReason
  message: string
  oldPid: number | null
  newPid: number | null
}

export type AbortReason =
  /** the state file could not be written: no further worker is signalled (see run/roll-tracked.ts) */
  | 'state-write'
  | 'ready-timeout'
  | 'not-ready'
  | 'drain-timeout'
  | 'master-gone'
  | 'replacement-died'
  | 'died-after-ready'
  | 'master-reloaded'
  | 'wrong-release'
  | 'master-unresponsive'
  | 'denied'
  | 'interrupted'
  | 'internal'

export interface RollOutcome {
  ok: boolean
  steps: StepRecord[]
  aborted: Aborted | null
  /** workers present at the start that this run did not stop (still serving the old code) */
  untouched: number[]
  /**
   * change in the workers above the configured count: +1 per surge step that raised the count and
   * did not lower it again (a failed step), -1 per earlier surplus worker handed back
   */
  surplus: number
  durationMs: number
}

export interface RollInput {
  adapter: ServerAdapter
  target: Target
  listener: RollListener
  options: RollOptions
  /** every worker at the start, oldest first */
  workers: ProcInfo[]
  /** the ones to restart, oldest first */
  selected: ProcInfo[]
  emit: Emit
  /** aborted by Ctrl-C / SIGTERM to this process */
  interrupt?: AbortSignal | undefined
  /** called after each transition so the state file can follow */
  onProgress?: ((steps: readonly StepRecord[]) => void) | undefined
}

/**
 * What a run uses of the readiness listener. `pending` may be missing (a test's plain-data inbox):
 * then every round judges datagrams against a fresh look at the workers.
 */
export type RollListener = Pick<ReadinessListener, 'claim' | 'drop' | 'wait' | 'rejectedSince'> & {
  pending?: ReadinessListener['pending'] | undefined
}

/**
 * The process-table calls a run makes (procfs, and the boot-relative clock). The roller hands them
 * to its steps, so tests can give plain data. `childPids` and `procInfo` may be missing (a
 * plain-data table): then every look at the workers is a whole adapter.workers() (look.ts).
 */
export type ProcSeam = Pick<typeof procfs, 'isAlive' | 'isSameProcess' | 'readStat' | 'signal' | 'sleep'> & {
  bootTick: typeof bootTick
  childPids?: typeof procfs.childPids | undefined
  procInfo?: typeof procfs.procInfo | undefined
}

/** What a step needs from the run it belongs to: its input, its records, and the seams it shares. */
export interface RollRun {
  readonly input: RollInput
  readonly proc: ProcSeam
  readonly opts: RollOptions
  readonly records: RollRecords
  /** the last look at the workers, and when the accepted ones were last checked one by one (look.ts) */
  readonly look: LookState
  /** where the master's log ended when the run started (the adapter's logMark), read as the run goes; null without a readable log */
  readonly logMark: LogMark | null
  /** one master signal at a time, each verified before the next (Gunicorn drops queued signals) */
  withMaster<T>(fn: () => Promise<T>): Promise<T>
  /** after a transition: let the state file follow */
  progress(): void
  /** end the run for a failure found outside the step that noticed it; `step` is the one at fault */
  abort(f: StepFailure, step?: StepRecord): void
}
