/**
 * A surge step: ask the master for one more worker (TTIN) -> await its READY -> ask the master for
 * one fewer (TTOU: it stops its oldest worker) -> await that exit. And, after a good run, handing
 * back the workers an earlier failed surge left above the configured count.
 */
import { formatMs } from '../config.js'
import { awaitReady } from './await-ready.js'
import { accountRetirement } from './attribution.js'
import { StepFailure } from './failure.js'
import type { ProcInfo } from '../proc/procfs.js'
import { childrenNow, lookAtWorkers } from './look.js'
import { isOldWorker, stopped, takeOver, type StepRecord } from './records.js'
import type { RollRun } from './types.js'
import { lookBeforeSignal, until } from './watch.js'

export async function surgeStep(run: RollRun, step: StepRecord): Promise<void> {
  const { adapter } = run.input
  if (!adapter.surgeUp || !adapter.surgeDown) throw new StepFailure('internal', `${adapter.label} cannot surge`)
  // One master signal at a time, and each verified before the next (Gunicorn drops queued signals).
  await run.withMaster(() => surgeUp(run, step, lookBeforeSignal(run)))
  step.state = 'awaiting-ready'
  run.progress()
  await awaitReady(run, step)
  // The new worker serves; now the master stops its oldest one.
  await run.withMaster(() => surgeDown(run, step, lookBeforeSignal(run)))
}

/** TTIN, then wait until the master lists a new child (it forks at once). `workers`: the look just before. */
export async function surgeUp(run: RollRun, step: StepRecord, workers: readonly ProcInfo[]): Promise<void> {
  const { adapter, target } = run.input
  const { masterReactTimeoutMs } = run.opts
  const before = new Set(workers.map((w) => w.pid))
  step.signalTick = run.proc.bootTick()
  adapter.surgeUp?.(target)
  masterSignalled(run, 'SIGTTIN', step.index, step.signalTick)
  run.records.surplus++
  step.state = 'signaled'
  step.signaledAt = Date.now()
  // the master forks within milliseconds; what comes next (the TTOU of a replace) waits for it
  await until(
    run,
    masterReactTimeoutMs,
    () => livePids(run).some((p) => !before.has(p)),
    () => new StepFailure('master-unresponsive', `${target.description} started no new worker within ${formatMs(masterReactTimeoutMs)} of TTIN`),
    true,
  )
}

/**
 * TTOU, then wait until the old worker the master retires has exited and been reaped: until it is
 * reaped the master still lists it, and a TTOU sent meanwhile would stop it again instead of the
 * next oldest (manage_workers kills the oldest it lists). `workers`: the look just before (its
 * old workers are the candidates). `fast`: the next step waits for it.
 */
export async function surgeDown(run: RollRun, step: StepRecord, workers: readonly ProcInfo[], fast = true): Promise<void> {
  const { adapter, target } = run.input
  const { drainTimeoutMs } = run.opts
  const ours = stopped(run.records)
  const candidates = workers.filter((w) => isOldWorker(run.records, w.pid) && !ours.includes(w.pid))
  // the next old worker to go is the one the master retires on this TTOU, not an exit it owes a respawn for
  run.records.retiring++
  adapter.surgeDown?.(target)
  masterSignalled(run, 'SIGTTOU', step.index)
  // the master lowered its count on TTOU: whatever the drain does now, this step left no surplus
  run.records.surplus--
  const t0 = Date.now()
  let retired: number | null = null
  await until(run, drainTimeoutMs, () => (retired = reapedAmong(run, candidates)) !== null, () => drainTimedOut(run, step, candidates), fast)
  if (retired === null) return
  accountRetirement(run.records, retired)
  takeOver(run.records, step, retired)
  step.stoppedPid = retired
  step.exitedAt = Date.now()
  run.input.emit({ event: 'retired', pid: retired, ms: Date.now() - t0, why: 'TTOU: the master stopped its oldest worker' })
}

/**
 * No old worker exited: the master stopped its oldest (the first candidate), which is still
 * finishing a request or ignores the signal. It counts as stopped by this step, not untouched.
 */
function drainTimedOut(run: RollRun, step: StepRecord, candidates: readonly ProcInfo[]): StepFailure {
  const { adapter, target } = run.input
  const wait = formatMs(run.opts.drainTimeoutMs)
  const oldest = candidates[0]
  if (oldest === undefined) return new StepFailure('drain-timeout', `no old worker of ${target.description} exited within ${wait} of TTOU`)
  takeOver(run.records, step, oldest.pid)
  step.stoppedPid = oldest.pid
  return new StepFailure(
    'drain-timeout',
    `worker ${oldest.pid} did not exit within ${wait} of ${adapter.stopSignal}: its master sent it on TTOU, its oldest worker; ` +
      'it is still finishing a request, or ignores the signal. It was left running; raise --drain-timeout if requests are that long',
  )
}

/**
 * The first of `candidates` that the master no longer has: exited and reaped (or gone, its pid
 * taken by another process). One read of the master's children list, and a stat read only of a
 * candidate missing from it (the list can skip a child while another is reaped); without that
 * list, a stat read of each.
 */
function reapedAmong(run: RollRun, candidates: readonly ProcInfo[]): number | null {
  const children = childrenNow(run)
  const listed = children === null ? null : new Set(children)
  for (const w of candidates) {
    if (listed?.has(w.pid)) continue
    const s = run.proc.readStat(w.pid)
    if (s === null || s.ppid !== run.input.target.masterPid || s.startTicks !== w.startTicks) return w.pid
  }
  return null
}

/** After a good run, hand back workers a failed surge left above the configured count. */
export async function retireSurplus(run: RollRun, n: number): Promise<void> {
  if (!run.input.adapter.surgeDown) return
  for (let i = 0; i < n; i++) await run.withMaster(() => handBackOne(run))
}

async function handBackOne(run: RollRun): Promise<void> {
  const { adapter, target } = run.input
  const { drainTimeoutMs } = run.opts
  const before = lookBeforeSignal(run)
  adapter.surgeDown?.(target)
  masterSignalled(run, 'SIGTTOU')
  // one of the earlier surplus is handed back: the outcome's surplus goes below zero by one
  run.records.surplus--
  const t0 = Date.now()
  // reaped, not only exited: the next hand-back's TTOU would stop a listed one again (surgeDown)
  let gone: number | null = null
  await until(
    run,
    drainTimeoutMs,
    () => (gone = reapedAmong(run, before)) !== null,
    () => new StepFailure('drain-timeout', `no worker of ${target.description} exited within ${formatMs(drainTimeoutMs)} of TTOU`),
    true,
  )
  if (gone !== null) run.input.emit({ event: 'retired', pid: gone, ms: Date.now() - t0, why: 'surplus from an earlier failed surge' })
}

function masterSignalled(run: RollRun, sig: 'SIGTTIN' | 'SIGTTOU', step?: number, tick?: number): void {
  run.input.emit({ event: 'signal', pid: run.input.target.masterPid, signal: sig, to: 'master', outcome: 'sent', step, tick })
}

/** The workers' pids, from a new look only when the master's children changed (look.ts). */
function livePids(run: RollRun): number[] {
  return lookAtWorkers(run, false).map((w) => w.pid)
}
