/**
 * A surge step: ask the master for one more worker (TTIN) -> await its READY -> ask the master for
 * one fewer (TTOU: it stops its oldest worker) -> await that exit. And, after a good run, handing
 * back the workers an earlier failed surge left above the configured count.
 */
import { formatMs } from '../config.js'
import { awaitReady } from './await-ready.js'
import { accountRetirement } from './attribution.js'
import { StepFailure } from './failure.js'
import { lookAtWorkers } from './look.js'
import type { StepRecord } from './records.js'
import type { RollRun } from './types.js'
import { ensureMaster, lookBeforeSignal, until } from './watch.js'

export async function surgeStep(run: RollRun, step: StepRecord): Promise<void> {
  const { adapter } = run.input
  if (!adapter.surgeUp || !adapter.surgeDown) throw new StepFailure('internal', `${adapter.label} cannot surge`)
  // One master signal at a time, and each verified before the next (Gunicorn drops queued signals).
  await run.withMaster(() => surgeUp(run, step))
  step.state = 'awaiting-ready'
  run.progress()
  await awaitReady(run, step)
  // The new worker serves; now the master stops its oldest one.
  await run.withMaster(() => surgeDown(run, step))
}

async function surgeUp(run: RollRun, step: StepRecord): Promise<void> {
  const { adapter, target } = run.input
  const { masterReactTimeoutMs } = run.opts
  const before = new Set(lookBeforeSignal(run).map((w) => w.pid))
  step.signalTick = run.proc.bootTick()
  adapter.surgeUp?.(target)
  masterSignalled(run, 'SIGTTIN', step.signalTick)
  run.records.surplus++
  step.state = 'signaled'
  step.signaledAt = Date.now()
  await until(run, masterReactTimeoutMs, () => livePids(run).some((p) => !before.has(p)), () =>
    new StepFailure('master-unresponsive', `${target.description} started no new worker within ${formatMs(masterReactTimeoutMs)} of TTIN`),
  )
}

async function surgeDown(run: RollRun, step: StepRecord): Promise<void> {
  const { adapter, target } = run.input
  const { drainTimeoutMs } = run.opts
  ensureMaster(run)
  const oldAlive = () => run.records.oldPids.filter((p) => run.proc.isAlive(p))
  const before = oldAlive()
  // the next old worker to go is the one the master retires on this TTOU, not an exit it owes a respawn for
  run.records.retiring++
  adapter.surgeDown?.(target)
  masterSignalled(run, 'SIGTTOU')
  // the master lowered its count on TTOU: whatever the drain does now, this step left no surplus
  run.records.surplus--
  const t0 = Date.now()
  // the next step waits for this exit: looked for within milliseconds (pace.ts)
  await until(
    run,
    drainTimeoutMs,
    () => oldAlive().length < before.length,
    () => new StepFailure('drain-timeout', `no old worker of ${target.description} exited within ${formatMs(drainTimeoutMs)} of TTOU`),
    true,
  )
  const retired = before.find((p) => !run.proc.isAlive(p)) ?? null
  if (retired !== null) {
    accountRetirement(run.records, retired)
    step.stoppedPid = retired
    step.oldPid = retired
    step.exitedAt = Date.now()
    run.input.emit({ event: 'retired', pid: retired, ms: Date.now() - t0, why: 'TTOU: the master stopped its oldest worker' })
  }
}

/** After a good run, hand back workers a failed surge left above the configured count. */
export async function retireSurplus(run: RollRun, n: number): Promise<void> {
  if (!run.input.adapter.surgeDown) return
  for (let i = 0; i < n; i++) await run.withMaster(() => handBackOne(run))
}

async function handBackOne(run: RollRun): Promise<void> {
  const { adapter, target } = run.input
  const { drainTimeoutMs } = run.opts
  ensureMaster(run)
  const before = livePids(run)
  adapter.surgeDown?.(target)
  masterSignalled(run, 'SIGTTOU')
  // one of the earlier surplus is handed back: the outcome's surplus goes below zero by one
  run.records.surplus--
  const t0 = Date.now()
  await until(
    run,
    drainTimeoutMs,
    () => before.some((p) => !run.proc.isAlive(p)),
    () => new StepFailure('drain-timeout', `no worker of ${target.description} exited within ${formatMs(drainTimeoutMs)} of TTOU`),
    true,
  )
  const gone = before.find((p) => !run.proc.isAlive(p))
  if (gone !== undefined) run.input.emit({ event: 'retired', pid: gone, ms: Date.now() - t0, why: 'surplus from an earlier failed surge' })
}

function masterSignalled(run: RollRun, sig: 'SIGTTIN' | 'SIGTTOU', tick?: number): void {
  run.input.emit({ event: 'signal', pid: run.input.target.masterPid, signal: sig, to: 'master', outcome: 'sent', tick })
}

/** The workers' pids, from a new look only when the master's children changed (look.ts). */
function livePids(run: RollRun): number[] {
  return lookAtWorkers(run, false).map((w) => w.pid)
}
