/**
 * The step machine. A run is a list of steps, at most `batch` in flight:
 *
 *   replace: signal the old worker gracefully -> await its exit -> await a READY from its replacement
 *   surge:   ask the master for one more worker -> await its READY -> ask the master for one fewer
 *            (it stops its oldest worker) -> await that exit
 *
 * The first failure ends the walk: no further worker is signalled, the steps already in flight are
 * seen through (or fail on their own timeouts), and the caller records error-resistance mode.
 */
import { DEFAULTS, formatMs, type Strategy } from '../config.js'
import { errorMessage } from '../errors.js'
import { isAlive, isSameProcess, readStat, signal, sleep, type ProcInfo } from '../proc/procfs.js'
import { isReady, type Readiness } from '../readiness/protocol.js'
import type { Arrival, ReadinessListener } from '../readiness/listener.js'
import type { ServerAdapter, Target } from '../servers/types.js'
import type { Emit } from './events.js'
import { done, inFlight, newStep, readyMs, type StepRecord } from './records.js'

export interface RollOptions {
  strategy: Strategy
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
}

export interface Aborted {
  reason: AbortReason
  message: string
  oldPid: number | null
  newPid: number | null
}

export type AbortReason =
  | 'ready-timeout'
  | 'not-ready'
  | 'drain-timeout'
  | 'master-gone'
  | 'replacement-died'
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
  listener: ReadinessListener
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

/** How long to watch the master after a new worker died while booting: Gunicorn halts right after it reaps a worker that exited with a boot error. */
const MASTER_HALT_GRACE_MS = 2_000

class StepFailure extends Error {
  constructor(
    readonly reason: AbortReason,
    message: string,
    readonly newPid: number | null = null,
  ) {
    super(message)
  }
}

export async function roll(input: RollInput): Promise<RollOutcome> {
  return new Roller(input).run()
}

class Roller {
  private readonly started = Date.now()
  private readonly oldPids: Set<number>
  private readonly steps: StepRecord[]
  /** new workers whose readiness we accepted */
  private readonly accepted = new Set<number>()
  /** new workers seen alive but not yet ready, with their start tick, to notice one that dies */
  private readonly booting = new Map<number, number>()
  /** old workers this run stopped, directly or through the master */
  private readonly touched = new Set<number>()
  private aborted: Aborted | null = null
  private surplus = 0
  private masterQueue: Promise<unknown> = Promise.resolve()
  private readonly opts: RollOptions

  constructor(private readonly input: RollInput) {
    this.opts = input.options
    this.oldPids = new Set(input.workers.map((w) => w.pid))
    this.steps = input.selected.map((w, i) => newStep(i + 1, w.pid))
  }

  async run(): Promise<RollOutcome> {
    const { target, emit, options } = this.input
    const onInterrupt = () => this.fail(new StepFailure('interrupted', 'interrupted by a signal to rolling-restart; no further worker was touched'))
    this.input.interrupt?.addEventListener('abort', onInterrupt)
    emit({
      event: 'run-start',
      group: target.group,
      server: target.server,
      masterPid: target.masterPid,
      strategy: options.strategy,
      batch: options.batch,
      workers: this.input.workers.map((w) => w.pid),
      selected: this.input.selected.map((w) => w.pid),
      skipped: [],
    })
    try {
      await this.walk()
      if (!this.aborted && options.surplusToRetire > 0) await this.retireSurplus(options.surplusToRetire)
    } catch (err) {
      this.fail(err instanceof StepFailure ? err : new StepFailure('internal', errorMessage(err)))
    } finally {
      this.input.interrupt?.removeEventListener('abort', onInterrupt)
    }
    const durationMs = Date.now() - this.started
    const outcome: RollOutcome = {
      ok: this.aborted === null,
      steps: this.steps,
      aborted: this.aborted,
      untouched: this.untouched(),
      surplus: this.surplus,
      durationMs,
    }
    emit({ event: 'run-end', ok: outcome.ok, replaced: done(this.steps).length, durationMs })
    return outcome
  }

  /** Keep up to `batch` steps in flight; after a failure start none, but see the running ones through. */
  private async walk(): Promise<void> {
    const running = new Set<Promise<void>>()
    let next = 0
    while (true) {
      while (!this.aborted && running.size < this.opts.batch && next < this.steps.length) {
        const step = this.steps[next++] as StepRecord
        const p: Promise<void> = this.runStep(step).finally(() => running.delete(p))
        running.add(p)
        // Start batched steps one after another, so signals reach the server one at a time.
        if (this.opts.batch > 1) await sleep(this.opts.pollIntervalMs)
      }
      if (running.size === 0) return
      await Promise.race(running)
    }
  }

  private async runStep(step: StepRecord): Promise<void> {
    const { emit } = this.input
    step.startedAt = Date.now()
    emit({ event: 'step-start', step: step.index, total: this.steps.length, oldPid: step.oldPid, action: this.opts.strategy })
    try {
      if (this.opts.strategy === 'surge') await this.surgeStep(step)
      else await this.replaceStep(step)
      step.state = 'ready'
    } catch (err) {
      const failure = err instanceof StepFailure ? err : new StepFailure('internal', errorMessage(err))
      step.state = 'failed'
      step.failure = failure.message
      if (failure.newPid !== null) step.newPid = failure.newPid
      this.fail(failure, step)
    }
    this.input.onProgress?.(this.steps)
  }

  private async replaceStep(step: StepRecord): Promise<void> {
    const { adapter, target } = this.input
    const oldPid = step.oldPid as number
    this.ensureMaster()
    const outcome = signal(oldPid, adapter.stopSignal)
    this.touched.add(oldPid)
    this.input.emit({ event: 'signal', pid: oldPid, signal: adapter.stopSignal, to: 'worker', outcome })
    if (outcome === 'denied') throw new StepFailure('denied', `not permitted to signal worker ${oldPid} of ${target.description}`)
    step.state = 'signaled'
    step.signaledAt = Date.now()
    this.input.onProgress?.(this.steps)
    await this.awaitExit(step, oldPid)
    step.state = 'awaiting-ready'
    this.input.onProgress?.(this.steps)
    await this.awaitReady(step)
  }

  private async surgeStep(step: StepRecord): Promise<void> {
    const { adapter, target } = this.input
    if (!adapter.surgeUp || !adapter.surgeDown) throw new StepFailure('internal', `${adapter.label} cannot surge`)
    // One master signal at a time, and each verified before the next (Gunicorn drops queued signals).
    await this.withMaster(async () => {
      this.ensureMaster()
      const before = new Set(this.livePids())
      adapter.surgeUp?.(target)
      this.input.emit({ event: 'signal', pid: target.masterPid, signal: 'SIGTTIN', to: 'master', outcome: 'sent' })
      this.surplus++
      step.state = 'signaled'
      step.signaledAt = Date.now()
      await this.until(this.opts.masterReactTimeoutMs, () => this.livePids().some((p) => !before.has(p)), () =>
        new StepFailure('master-unresponsive', `${target.description} started no new worker within ${formatMs(this.opts.masterReactTimeoutMs)} of TTIN`),
      )
    })
    step.state = 'awaiting-ready'
    this.input.onProgress?.(this.steps)
    await this.awaitReady(step)
    // The new worker serves; now the master stops its oldest one.
    await this.withMaster(async () => {
      this.ensureMaster()
      const oldAlive = () => [...this.oldPids].filter((p) => isAlive(p))
      const before = oldAlive()
      adapter.surgeDown?.(target)
      this.input.emit({ event: 'signal', pid: target.masterPid, signal: 'SIGTTOU', to: 'master', outcome: 'sent' })
      // the master lowered its count on TTOU: whatever the drain does now, this step left no surplus
      this.surplus--
      const t0 = Date.now()
      await this.until(this.opts.drainTimeoutMs, () => oldAlive().length < before.length, () =>
        new StepFailure('drain-timeout', `no old worker of ${target.description} exited within ${formatMs(this.opts.drainTimeoutMs)} of TTOU`),
      )
      const retired = before.find((p) => !isAlive(p)) ?? null
      if (retired !== null) {
        this.touched.add(retired)
        step.oldPid = retired
        step.exitedAt = Date.now()
        this.input.emit({ event: 'retired', pid: retired, ms: Date.now() - t0, why: 'TTOU: the master stopped its oldest worker' })
      }
    })
  }

  /** After a good run, hand back workers a failed surge left above the configured count. */
  private async retireSurplus(n: number): Promise<void> {
    const { adapter, target } = this.input
    if (!adapter.surgeDown) return
    for (let i = 0; i < n; i++) {
      await this.withMaster(async () => {
        this.ensureMaster()
        const before = this.livePids()
        adapter.surgeDown?.(target)
        this.input.emit({ event: 'signal', pid: target.masterPid, signal: 'SIGTTOU', to: 'master', outcome: 'sent' })
        // one of the earlier surplus is handed back: the outcome's surplus goes below zero by one
        this.surplus--
        const t0 = Date.now()
        await this.until(this.opts.drainTimeoutMs, () => before.some((p) => !isAlive(p)), () =>
          new StepFailure('drain-timeout', `no worker of ${target.description} exited within ${formatMs(this.opts.drainTimeoutMs)} of TTOU`),
        )
        const gone = before.find((p) => !isAlive(p))
        if (gone !== undefined) this.input.emit({ event: 'retired', pid: gone, ms: Date.now() - t0, why: 'surplus from an earlier failed surge' })
      })
    }
  }

  private async awaitExit(step: StepRecord, pid: number): Promise<void> {
    const stat = readStat(pid)
    const startTicks = stat?.startTicks
    const gone = () => startTicks === undefined || !isSameProcess(pid, startTicks)
    await this.until(this.opts.drainTimeoutMs, gone, () =>
      new StepFailure(
        'drain-timeout',
        `worker ${pid} did not exit within ${formatMs(this.opts.drainTimeoutMs)} of ${this.input.adapter.stopSignal}: ` +
          'it is still finishing a request, or ignores the signal. It was left running; raise --drain-timeout if requests are that long',
      ),
    )
    step.exitedAt = Date.now()
    step.state = 'exited'
    this.input.emit({ event: 'exited', pid, ms: step.exitedAt - (step.signaledAt ?? step.exitedAt) })
  }

  private async awaitReady(step: StepRecord): Promise<void> {
    const { listener, target, adapter } = this.input
    const deadline = Date.now() + this.opts.readyTimeoutMs
    while (true) {
      this.ensureMaster()
      // one look at the process table per round: every datagram and the booting check use it
      const workers = adapter.workers(target)
      const pids = new Set(workers.map((w) => w.pid))
      this.sweepInbox(pids)
      const got = listener.claim((a) => this.judge(a, pids) === null)
      if (got) {
        this.acceptArrival(step, got)
        return
      }
      const died = this.watchBooting(workers)
      if (died !== null) await this.diedWhileBooting(died)
      if (Date.now() > deadline) {
        throw new StepFailure(
          'ready-timeout',
          `no READY within ${formatMs(this.opts.readyTimeoutMs)} (--ready-timeout): ${adapter.noReadyHint(target)}`,
          this.newestBooting(),
        )
      }
      await listener.wait(this.opts.pollIntervalMs)
    }
  }

  private acceptArrival(step: StepRecord, a: Arrival): void {
    const { target, adapter, emit } = this.input
    const v = a.value
    const newPid = v.kind === 'full' ? v.pid : this.soleBooting()
    if (newPid !== null) {
      this.accepted.add(newPid)
      this.booting.delete(newPid)
    }
    step.newPid = newPid
    step.status = v.status
    if (v.kind === 'full') {
      step.release = v.release
      step.bootMs = v.bootMs
    }
    if (!isReady(v)) {
      throw new StepFailure(
        'not-ready',
        `new worker ${newPid ?? '(unknown pid)'} of ${target.description} reported READY=0: its status probe said ${JSON.stringify(v.status ?? 'nothing')}. ` +
          'The new release is not healthy; the remaining old workers keep serving',
        newPid,
      )
    }
    if (v.kind === 'full' && this.opts.checkRelease && v.preload) {
      throw new StepFailure(
        'wrong-release',
        `new worker ${newPid} reported PRELOAD=1: it was forked from a master that preloaded the app (preload_app), so it runs the code the master ` +
          `imported when it started, whatever RELEASE=${v.release ?? '(none)'} on disk says. Likely cause: ${adapter.wrongReleaseHint(target)}`,
        newPid,
      )
    }
    if (v.kind === 'full' && this.opts.checkRelease) {
      const why = this.opts.checkRelease(v)
      if (why) throw new StepFailure('wrong-release', `new worker ${newPid} ${why}. Likely cause: ${adapter.wrongReleaseHint(target)}`, newPid)
    }
    step.readyAt = a.at
    emit({
      event: 'ready',
      step: step.index,
      total: this.steps.length,
      oldPid: step.oldPid,
      newPid,
      ms: readyMs(step) ?? 0,
      status: step.status,
      release: step.release,
      bootMs: step.bootMs,
      app: v.kind === 'full' ? v.app : null,
    })
  }

  /** null: ours to claim (a replacement's readiness); otherwise why it is ignored for good. `live`: the group's worker pids now. */
  private judge(a: Arrival, live: ReadonlySet<number>): string | null {
    const v = a.value
    if (v.kind === 'bare') {
      if (!this.opts.acceptBareOk) return 'bare status line without --accept-bare-ok'
      if (inFlight(this.steps).filter((s) => s.state === 'awaiting-ready').length !== 1) {
        return 'bare status line while more than one replacement is awaited: it cannot be attributed'
      }
      return null
    }
    if (this.oldPids.has(v.pid)) return `pid ${v.pid} is one of the workers being replaced, not a new one`
    if (this.accepted.has(v.pid)) return `pid ${v.pid} was already accepted`
    if (!live.has(v.pid)) {
      return isAlive(v.pid)
        ? `pid ${v.pid} is not a worker of ${this.input.target.description} (another group sharing the port?)`
        : `pid ${v.pid} is not running (any more)`
    }
    if (v.group !== null && this.input.adapter.groupMatches && !this.input.adapter.groupMatches(this.input.target, v)) {
      return `GROUP=${v.group} is not ${this.input.target.group}`
    }
    return null
  }

  /** Drop datagrams that can never be ours, logging why once. Bare ones wait: they may become attributable. */
  private sweepInbox(live: ReadonlySet<number>): void {
    const dropped: Array<{ a: Arrival; why: string }> = []
    this.input.listener.drop((a) => {
      if (a.value.kind === 'bare' && this.opts.acceptBareOk) return false
      const why = this.judge(a, live)
      if (why) dropped.push({ a, why })
      return why !== null
    })
    for (const { a, why } of dropped) {
      this.input.emit({
        event: 'datagram-ignored',
        from: a.from,
        reason: 'not-ours',
        detail: why,
        pid: a.value.kind === 'full' ? a.value.pid : undefined,
      })
    }
  }

  /** Track new workers while they boot; returns one that died before READY, if any. */
  private watchBooting(workers: readonly ProcInfo[]): number | null {
    for (const w of workers) {
      if (this.oldPids.has(w.pid) || this.accepted.has(w.pid) || this.booting.has(w.pid)) continue
      this.booting.set(w.pid, w.startTicks)
      this.input.emit({ event: 'spawned', pid: w.pid })
    }
    for (const [pid, ticks] of this.booting) {
      if (!isSameProcess(pid, ticks)) {
        this.booting.delete(pid)
        return pid
      }
    }
    return null
  }

  /** A new worker died before READY: say whether it took the master down with it (Gunicorn halts on a boot error). */
  private async diedWhileBooting(pid: number): Promise<never> {
    const deadline = Date.now() + MASTER_HALT_GRACE_MS
    while (Date.now() < deadline) {
      this.ensureMaster()
      await sleep(this.opts.pollIntervalMs)
    }
    this.ensureMaster()
    throw new StepFailure(
      'replacement-died',
      `new worker ${pid} of ${this.input.target.description} exited before it reported ready: it crashed or was killed while booting (see the server's error log)`,
      pid,
    )
  }

  private soleBooting(): number | null {
    const candidates = [...this.booting.keys()]
    return candidates.length === 1 ? (candidates[0] as number) : null
  }

  private newestBooting(): number | null {
    const candidates = [...this.booting.keys()]
    return candidates.length ? (candidates[candidates.length - 1] as number) : null
  }

  private livePids(): number[] {
    return this.input.adapter.workers(this.input.target).map((w) => w.pid)
  }

  private ensureMaster(): void {
    const { target, adapter } = this.input
    if (!isSameProcess(target.masterPid, target.masterStartTicks)) {
      throw new StepFailure('master-gone', `${target.description} exited during the run. ${adapter.masterGoneHint(target)}`)
    }
    if (this.aborted?.reason === 'interrupted') throw new StepFailure('interrupted', this.aborted.message)
  }

  /** Poll `ok` until it holds; watch the master meanwhile. */
  private async until(timeoutMs: number, ok: () => boolean, onTimeout: () => StepFailure): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!ok()) {
      this.ensureMaster()
      if (Date.now() > deadline) throw onTimeout()
      await sleep(this.opts.pollIntervalMs)
    }
  }

  private withMaster<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.masterQueue.then(fn, fn)
    this.masterQueue = run.catch(() => undefined)
    return run
  }

  private fail(f: StepFailure, step?: StepRecord): void {
    if (this.aborted) return // the first failure is the reason; later ones follow from it
    this.aborted = { reason: f.reason, message: f.message, oldPid: step?.oldPid ?? null, newPid: f.newPid ?? step?.newPid ?? null }
    this.input.emit({ event: 'abort', ...this.aborted })
  }

  private untouched(): number[] {
    return this.input.workers.map((w) => w.pid).filter((p) => !this.touched.has(p) && isAlive(p))
  }
}

export const ROLL_DEFAULTS: Omit<RollOptions, 'checkRelease'> = {
  strategy: DEFAULTS.strategy,
  batch: DEFAULTS.batch,
  readyTimeoutMs: DEFAULTS.readyTimeoutMs,
  drainTimeoutMs: DEFAULTS.drainTimeoutMs,
  masterReactTimeoutMs: DEFAULTS.masterReactTimeoutMs,
  pollIntervalMs: DEFAULTS.pollIntervalMs,
  acceptBareOk: false,
  surplusToRetire: 0,
}
