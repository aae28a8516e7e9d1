/**
 * The step machine. A run is a list of steps, at most `batch` in flight:
 *
 *   replace: signal the old worker gracefully -> await its exit -> await a READY from its replacement;
 *            through the master where it stops its oldest worker (Gunicorn), and the selection is
 *            the oldest: TTIN -> TTOU -> await the READY, the old worker's exit alongside the boot
 *   surge:   ask the master for one more worker -> await its READY -> ask the master for one fewer
 *            (it stops its oldest worker) -> await that exit
 *
 * Every accepted replacement stays watched until the run ends, and the run ends only once each has
 * been up for its --min-ready window after its READY: by default (auto) the one up longest 1 s
 * (the release seen to stay up) and the others no time of their own; with a duration, every one
 * that long. The next step does not wait for a window unless --wait-min-ready. The first failure
 * ends the walk: no further worker is signalled, the steps already in flight are seen through (or
 * fail on their own timeouts; a replacement that died after READY, or an interruption, stops them
 * at once), and the caller records error-resistance mode. Which step may start, and when the walk
 * is done, is the policy's (policy.ts); the steps' I/O is in replace-step.ts, handover-step.ts and
 * surge-step.ts.
 */
import { bootTick } from '../proc/boot-clock.js'
// a namespace import: a test's plain-data table may leave out the optional calls (childPids, procInfo)
import * as procfs from '../proc/procfs.js'
import { asFailure, interruption, type StepFailure } from './failure.js'
import { nextStep, walkDone, withExitEvidence, type SettleGate } from './policy.js'
import { done, newRecords, stopped, unsettled, type RollRecords, type StepRecord } from './records.js'
import { bootingPause } from './pace.js'
import { handoverStep } from './handover-step.js'
import { replaceStep } from './replace-step.js'
import { retireSurplus, surgeStep } from './surge-step.js'
import { newLook } from './look.js'
import { ensureMaster, watchRound } from './watch.js'
import type { LogMark } from '../servers/shared/master-log.js'
import type { ProcSeam, RollInput, RollOptions, RollOutcome, RollRun } from './types.js'

export type { Aborted, AbortReason, RollInput, RollOptions, RollOutcome } from './types.js'

/** How long to wait for the server's log to say how a replacement that died after READY ended. */
const EVIDENCE_WAIT_MS = 1_000

export async function roll(input: RollInput): Promise<RollOutcome> {
  return new Roller(input).run()
}

class Roller implements RollRun {
  private readonly started = Date.now()
  readonly opts: RollOptions
  /** the one place the steps' process-table calls come from */
  readonly proc: ProcSeam = {
    isAlive: procfs.isAlive,
    isSameProcess: procfs.isSameProcess,
    readStat: procfs.readStat,
    signal: procfs.signal,
    sleep: procfs.sleep,
    bootTick,
    childPids: procfs.childPids,
    procInfo: procfs.procInfo,
  }
  readonly records: RollRecords
  readonly look = newLook()
  readonly logMark: LogMark | null
  private masterQueue: Promise<unknown> = Promise.resolve()

  constructor(readonly input: RollInput) {
    this.opts = input.options
    this.records = newRecords(
      input.workers.map((w) => w.pid),
      input.selected.map((w) => w.pid),
    )
    this.logMark = input.adapter.logMark?.(input.target) ?? null
  }

  async run(): Promise<RollOutcome> {
    const { emit, options } = this.input
    const onInterrupt = () => this.fail(interruption(this.input.interrupt?.reason))
    this.input.interrupt?.addEventListener('abort', onInterrupt)
    this.announce()
    try {
      await this.walk()
      if (!this.records.aborted) await this.settle()
      if (!this.records.aborted && options.surplusToRetire > 0) await retireSurplus(this, options.surplusToRetire)
    } catch (err) {
      this.fail(asFailure(err))
    } finally {
      this.input.interrupt?.removeEventListener('abort', onInterrupt)
    }
    await this.explainDeath()
    const { steps, aborted, surplus } = this.records
    const durationMs = Date.now() - this.started
    const outcome: RollOutcome = { ok: aborted === null, steps, aborted, untouched: this.untouched(), surplus, durationMs }
    emit({ event: 'run-end', ok: outcome.ok, replaced: done(steps).length, durationMs })
    return outcome
  }

  private announce(): void {
    const { target, options, workers, selected } = this.input
    this.input.emit({
      event: 'run-start',
      group: target.group,
      server: target.server,
      masterPid: target.masterPid,
      strategy: options.strategy,
      batch: options.batch,
      workers: workers.map((w) => w.pid),
      selected: selected.map((w) => w.pid),
      skipped: [],
    })
  }

  /** Keep up to `batch` steps in flight; after a failure start none, but see the running ones through. */
  private async walk(): Promise<void> {
    const { batch, pollIntervalMs } = this.opts
    const running = new Set<Promise<void>>()
    while (!walkDone(this.records, batch)) {
      const step = nextStep(this.records, batch, this.gate())
      if (step === null) {
        // a step ends (its own waits watch meanwhile), or (--wait-min-ready) a window passes: look again, watching meanwhile
        await Promise.race([...running, this.proc.sleep(running.size > 0 ? bootingPause(this.opts) : pollIntervalMs)])
        if (running.size === 0) watchRound(this)
        continue
      }
      const p: Promise<void> = this.runStep(step).finally(() => running.delete(p))
      running.add(p)
      // Start batched steps one after another, so signals reach the server one at a time.
      if (batch > 1) await this.proc.sleep(pollIntervalMs)
    }
  }

  /** --wait-min-ready: the next step waits until every accepted replacement has been up for --min-ready. */
  private gate(): SettleGate | undefined {
    return this.opts.waitMinReady ? { now: Date.now(), minReady: this.opts.minReady } : undefined
  }

  /**
   * The run ends only once every accepted replacement has been up for its --min-ready window (the
   * one up longest for the release's); all of them are watched meanwhile.
   */
  private async settle(): Promise<void> {
    const { minReady, pollIntervalMs } = this.opts
    const waiting = unsettled(this.records, Date.now(), minReady)
    if (waiting.length === 0) return
    const until = Math.max(...waiting.map((u) => u.at))
    this.input.emit({ event: 'settling', pids: waiting.map((u) => u.step.newPid as number), ms: until - Date.now() })
    // watched each poll; the last pause ends when the last window does, not a poll later
    while (unsettled(this.records, Date.now(), minReady).length > 0) {
      watchRound(this)
      await this.proc.sleep(Math.max(1, Math.min(pollIntervalMs, until - Date.now())))
    }
    ensureMaster(this)
  }

  /** A replacement died after READY: give the server a moment to log how (it does when it reaps), for the message. */
  private async explainDeath(): Promise<void> {
    const a = this.records.aborted
    const { adapter, target } = this.input
    if (a?.reason !== 'died-after-ready' || a.newPid === null || !adapter.exitEvidence) return
    const deadline = Date.now() + EVIDENCE_WAIT_MS
    while (true) {
      const evidence = adapter.exitEvidence(target, a.newPid)
      if (evidence?.kind === 'crashed') {
        a.message = withExitEvidence(a.message, evidence, adapter.label)
        return
      }
      if (Date.now() > deadline) return
      await this.proc.sleep(this.opts.pollIntervalMs)
    }
  }

  private async runStep(step: StepRecord): Promise<void> {
    step.startedAt = Date.now()
    const { strategy, handover } = this.opts
    const via = strategy === 'surge' || handover ? 'master' : 'worker'
    this.input.emit({ event: 'step-start', step: step.index, total: this.records.steps.length, oldPid: step.oldPid, action: strategy, via })
    try {
      if (strategy === 'surge') await surgeStep(this, step)
      else if (handover) await handoverStep(this, step)
      else await replaceStep(this, step)
      step.state = 'ready'
    } catch (err) {
      const failure = asFailure(err)
      step.state = 'failed'
      step.failure = failure.message
      if (failure.newPid !== null) step.newPid = failure.newPid
      this.fail(failure, step)
    }
    this.progress()
  }

  withMaster<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.masterQueue.then(fn, fn)
    this.masterQueue = run.catch(() => undefined)
    return run
  }

  progress(): void {
    this.input.onProgress?.(this.records.steps)
  }

  abort(f: StepFailure, step?: StepRecord): void {
    this.fail(f, step)
  }

  private fail(f: StepFailure, step?: StepRecord): void {
    if (this.records.aborted) return // the first failure is the reason; later ones follow from it
    const aborted = { reason: f.reason, message: f.message, oldPid: f.oldPid ?? step?.oldPid ?? null, newPid: f.newPid ?? step?.newPid ?? null }
    this.records.aborted = aborted
    this.input.emit({ event: 'abort', ...aborted })
  }

  private untouched(): number[] {
    const stoppedPids = stopped(this.records)
    return this.records.oldPids.filter((p) => !stoppedPids.includes(p) && this.proc.isAlive(p))
  }
}
