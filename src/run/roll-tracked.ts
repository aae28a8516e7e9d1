/**
 * Roll, with the state file following every transition (for `status` during the run). A write the
 * state directory refuses stops the roll before its next signal and ends the run (exit 4).
 */
import { DEFAULTS } from '../config.js'
import type { ProcInfo } from '../proc/procfs.js'
import type { RollEvent } from '../roll/events.js'
import { inFlight, type StepRecord } from '../roll/records.js'
import { roll, type RollOutcome } from '../roll/roller.js'
import type { GroupState } from '../state/state-file.js'
import { nextReplacements } from '../state/slots.js'
import type { RestartPlan } from './flags.js'
import type { GroupRun } from './group-run.js'
import { checkHookVersion } from './hook-version.js'
import type { Target } from '../servers/types.js'
import { recordPreload } from './preload-guard.js'
import type { ReleaseCheck } from './release-check.js'
import { replaceVia } from './replace-via.js'
import { RollRecorder } from './state-guard.js'

/** What one roll of a run touches; the rollback after a failed deploy is a second roll of the same run. */
export interface TrackedRoll {
  /** every worker at the start, oldest first */
  workers: ProcInfo[]
  selected: ProcInfo[]
  checkRelease?: ReleaseCheck | undefined
  /** workers above the configured count left by earlier runs, for this roll to retire */
  surplus: number
  /** instead of the run's own plan (the rollback goes one at a time, replacing) */
  plan?: RestartPlan | undefined
}

type RollScope = Pick<GroupRun, 'dir' | 'resolved' | 'listener' | 'plan' | 'out' | 'interrupt'>

export async function rollTracked(run: RollScope, r: TrackedRoll): Promise<RollOutcome> {
  const { target, adapter } = run.resolved
  const plan = r.plan ?? run.plan
  const recorder = new RollRecorder(run)
  const first = r.selected[0]?.pid ?? null
  const record = (fn: (s: GroupState) => void) => recorder.record(fn)
  record((s) => {
    s.roll = {
      runPid: process.pid,
      startedAt: new Date().toISOString(),
      strategy: plan.strategy,
      total: r.selected.length,
      done: 0,
      // the first step starts at once: in flight from the start, so that its signal needs no write first
      inFlight: first === null ? [] : [first],
      oldPids: r.workers.map((w) => w.pid),
    }
  })
  const inFlight = new InFlightRecord(record, plan.strategy, first)
  const via = replaceVia(plan.strategy, adapter, target, r.workers, r.selected)
  if (via.why !== null) run.out.logger.info({ event: 'replace-via-worker', why: via.why }, `each worker gets its own ${adapter.stopSignal}, not the master's TTOU: ${via.why}`)
  const refused = recorder.refusedAtStart()
  if (refused) throw refused
  const outcome = await roll({
    adapter,
    target,
    listener: run.listener,
    workers: r.workers,
    selected: r.selected,
    interrupt: recorder.signal,
    options: {
      strategy: plan.strategy,
      handover: via.via === 'master' && plan.strategy === 'replace',
      batch: plan.batch,
      readyTimeoutMs: plan.readyTimeoutMs,
      drainTimeoutMs: plan.drainTimeoutMs,
      masterReactTimeoutMs: DEFAULTS.masterReactTimeoutMs,
      pollIntervalMs: DEFAULTS.pollIntervalMs,
      acceptBareOk: plan.acceptBareOk,
      checkRelease: r.checkRelease,
      surplusToRetire: r.surplus,
      minReady: plan.minReady,
      waitMinReady: plan.waitMinReady,
      recycle: plan.recycle,
    },
    emit: (e) => {
      run.out.event(e)
      if (e.event === 'ready' && e.newPid !== null) {
        record((s) => {
          recordReady(s, e, target)
          inFlight.readyIn(s, e.oldPid, e.next)
        })
      }
      if (e.event === 'ready' && e.hookVersion !== undefined) checkHookVersion(run.out, e.newPid, e.hookVersion)
    },
    onProgress: (steps) => inFlight.write(steps),
  })
  // a datagram claimed but refused (not ready, wrong release) says which hook sent it too
  for (const s of outcome.steps) if (s.hookVersion !== undefined) checkHookVersion(run.out, s.newPid, s.hookVersion)
  // a step that failed on PRELOAD=1 tells the next run that this master preloads
  const preloaded = outcome.steps.find((s) => s.preload && s.newPid !== null)
  if (preloaded) record((s) => recordPreload(s, preloadRecord(preloaded.newPid as number, target)))
  const stopped = recorder.stopped(outcome)
  if (stopped) throw stopped
  return outcome
}

/**
 * The state file's steps in flight (their old pids), written only when the list changes: an exit
 * moves no step out of flight, and a replace step's READY, which ends it, is written with its
 * ready record, together with the old worker of the step that starts next (the READY's `next`),
 * before that step signals. So a replace step costs one write of the state file: its READY.
 */
class InFlightRecord {
  private written: number[]
  /** written in flight before its step began: with the roll's start, or with the last READY */
  private announced: number | null

  constructor(
    private readonly record: (fn: (s: GroupState) => void) => boolean,
    private readonly strategy: RestartPlan['strategy'],
    first: number | null,
  ) {
    this.written = first === null ? [] : [first]
    this.announced = first
  }

  /** After a transition: the steps in flight now, unless the file already says so. */
  write(steps: readonly StepRecord[]): void {
    const now = inFlight(steps).map((x) => x.oldPid ?? 0)
    const a = this.announced
    if (a !== null && !now.includes(a)) {
      // still about to start, unless the run stopped
      const waiting = steps.some((x) => x.oldPid === a && x.state === 'pending') && !steps.some((x) => x.state === 'failed')
      if (waiting) now.push(a)
      else this.announced = null
    }
    if (now.join(' ') === this.written.join(' ')) return
    this.written = now
    this.record((s) => {
      if (s.roll) s.roll.inFlight = now
    })
  }

  /** Inside the ready record: a replace step is out of flight once its replacement is ready (surge still retires an old worker), and the next one in. */
  readyIn(s: GroupState, oldPid: number | null, next: number | null | undefined): void {
    if (this.strategy !== 'replace' || !s.roll) return
    const i = this.written.indexOf(oldPid ?? 0)
    let list = i < 0 ? this.written : this.written.filter((_, j) => j !== i)
    if (next !== null && next !== undefined && !list.includes(next)) {
      list = [...list, next]
      this.announced = next
    }
    this.written = list
    s.roll.inFlight = list
  }
}

function preloadRecord(pid: number, target: Target) {
  return { reportedBy: pid, masterPid: target.masterPid, masterStartTicks: target.masterStartTicks, at: new Date().toISOString() }
}

function recordReady(s: GroupState, e: Extract<RollEvent, { event: 'ready' }>, target: Target): void {
  // what the workers really run, for `status` and the next run's refusal: a worker of a preloading master runs the master's code
  if (e.preload) recordPreload(s, preloadRecord(e.newPid as number, target))
  else delete s.extra.preload
  s.workers[String(e.newPid)] = {
    pid: e.newPid as number,
    ready: true,
    replacedPid: e.oldPid,
    readyAt: Date.now(),
    readyMs: e.ms,
    bootMs: e.bootMs,
    status: e.status,
    release: e.release,
    root: null,
    ...(e.preload ? { preload: true } : {}),
    slotReplacements: nextReplacements(s.workers, e.oldPid),
  }
  // what the workers say they load: the next preflight's app spec when the master's command line is hidden
  if (e.app) s.extra.app = { spec: e.app, reportedBy: e.newPid, at: new Date().toISOString() }
  // the hook the workers run, for doctor (null: an old hook that sends no HOOK)
  if (e.hookVersion !== undefined) s.extra.hook = { version: e.hookVersion, reportedBy: e.newPid, at: new Date().toISOString() }
  if (s.roll) s.roll.done++
}
