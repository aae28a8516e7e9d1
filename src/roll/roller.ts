/**
 * The step machine. A run is a list of steps, at most `batch` in flight:
 *
 *   replace: signal the old worker gracefully -> await its exit -> await a READY from its replacement
 *   surge:   ask the master for one more worker -> await its READY -> ask the master for one fewer
 *            (it stops its oldest worker) -> await that exit
 *
 * The first failure ends the walk: no further worker is signalled, the steps already in flight are
 * seen through (or fail on their own timeouts), and the caller records error-resistance mode.
 * Which step may start, and when the walk is done, is the policy's (policy.ts); the steps' I/O is
 * in replace-step.ts and surge-step.ts.
 */
import { bootTick } from '../proc/boot-clock.js'
import { isAlive, isSameProcess, readStat, signal, sleep } from '../proc/procfs.js'
import { asFailure, StepFailure } from './failure.js'
import { nextStep, walkDone } from './policy.js'
import { done, newRecords, stopped, type RollRecords, type StepRecord } from './records.js'
import { replaceStep } from './replace-step.js'
import { retireSurplus, surgeStep } from './surge-step.js'
import type { ProcSeam, RollInput, RollOptions, RollOutcome, RollRun } from './types.js'

export type { Aborted, AbortReason, RollInput, RollOptions, RollOutcome } from './types.js'

export async function roll(input: RollInput): Promise<RollOutcome> {
  return new Roller(input).run()
}

class Roller implements RollRun {
  private readonly started = Date.now()
  readonly opts: RollOptions
  /** the one place the steps' process-table calls come from */
  readonly proc: ProcSeam = { isAlive, isSameProcess, readStat, signal, sleep, bootTick }
  readonly records: RollRecords
  private masterQueue: Promise<unknown> = Promise.resolve()

  constructor(readonly input: RollInput) {
    this.opts = input.options
    this.records = newRecords(
      input.workers.map((w) => w.pid),
      input.selected.map((w) => w.pid),
    )
  }

  async run(): Promise<RollOutcome> {
    const { emit, options } = this.input
    const onInterrupt = () => this.fail(new StepFailure('interrupted', 'interrupted by a signal to rolling-restart; no further worker was touched'))
    this.input.interrupt?.addEventListener('abort', onInterrupt)
    this.announce()
    try {
      await this.walk()
      if (!this.records.aborted && options.surplusToRetire > 0) await retireSurplus(this, options.surplusToRetire)
    } catch (err) {
      this.fail(asFailure(err))
    } finally {
      this.input.interrupt?.removeEventListener('abort', onInterrupt)
    }
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
      const step = nextStep(this.records, batch)
      if (step === null) {
        await Promise.race(running)
        continue
      }
      const p: Promise<void> = this.runStep(step).finally(() => running.delete(p))
      running.add(p)
      // Start batched steps one after another, so signals reach the server one at a time.
      if (batch > 1) await this.proc.sleep(pollIntervalMs)
    }
  }

  private async runStep(step: StepRecord): Promise<void> {
    step.startedAt = Date.now()
    this.input.emit({ event: 'step-start', step: step.index, total: this.records.steps.length, oldPid: step.oldPid, action: this.opts.strategy })
    try {
      if (this.opts.strategy === 'surge') await surgeStep(this, step)
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

  private fail(f: StepFailure, step?: StepRecord): void {
    if (this.records.aborted) return // the first failure is the reason; later ones follow from it
    const aborted = { reason: f.reason, message: f.message, oldPid: step?.oldPid ?? null, newPid: f.newPid ?? step?.newPid ?? null }
    this.records.aborted = aborted
    this.input.emit({ event: 'abort', ...aborted })
  }

  private untouched(): number[] {
    const stoppedPids = stopped(this.records)
    return this.records.oldPids.filter((p) => !stoppedPids.includes(p) && this.proc.isAlive(p))
  }
}
