/**
 * Await a replacement's readiness: each round, one look at the process table, then drop the
 * datagrams that can never be ours, claim one that is, and watch the new workers while they boot.
 * What counts as ours, and what a readiness says, is the policy's (policy.ts).
 */
import { formatMs } from '../config.js'
import type { ProcInfo } from '../proc/procfs.js'
import type { Arrival } from '../readiness/listener.js'
import { StepFailure } from './failure.js'
import { groupMismatch, readyTimeoutMessage, refusal, verdictOn, whyDrop, whyNotOurs, type ArrivalContext } from './policy.js'
import { booting, ignoredSince, newestBooting, readyMs, soleBooting, unseen, type StepRecord } from './records.js'
import type { RollRun } from './types.js'
import { ensureMaster, watchMaster } from './watch.js'

/** How long to watch the master after a new worker died while booting: Gunicorn halts right after it reaps a worker that exited with a boot error. */
const MASTER_HALT_GRACE_MS = 2_000

export async function awaitReady(run: RollRun, step: StepRecord): Promise<void> {
  const { listener, target, adapter } = run.input
  const deadline = Date.now() + run.opts.readyTimeoutMs
  while (true) {
    ensureMaster(run)
    // one look at the process table per round: every datagram and the booting check use it
    const workers = adapter.workers(target)
    const ctx = arrivalContext(run, new Set(workers.map((w) => w.pid)))
    sweepInbox(run, ctx)
    const got = listener.claim((a) => whyNotOurs(a.value, run.records, ctx) === null)
    if (got) {
      claimReadiness(run, step, got, ctx)
      return
    }
    const died = watchBooting(run, workers)
    if (died !== null) await diedWhileBooting(run, died)
    if (Date.now() > deadline) {
      const since = step.startedAt ?? 0
      const ignored = [
        ...ignoredSince(run.records, since),
        ...listener.rejectedSince(since).map((r) => `a datagram from ${r.from}: ${r.detail} (${r.reason})`),
      ]
      const message = readyTimeoutMessage(formatMs(run.opts.readyTimeoutMs), ignored, () => adapter.noReadyHint(target))
      throw new StepFailure('ready-timeout', message, newestBooting(run.records))
    }
    await listener.wait(run.opts.pollIntervalMs)
  }
}

function arrivalContext(run: RollRun, live: ReadonlySet<number>): ArrivalContext {
  const { adapter, target } = run.input
  return {
    acceptBareOk: run.opts.acceptBareOk,
    live,
    isRunning: run.proc.isAlive,
    groupMatches: adapter.groupMatches ? (r) => adapter.groupMatches?.(target, r) ?? true : undefined,
    target,
  }
}

/** The step takes this datagram's worker as its replacement; it fails unless the readiness is good and of the expected release. */
function claimReadiness(run: RollRun, step: StepRecord, a: Arrival, ctx: ArrivalContext): void {
  const { target, adapter, emit } = run.input
  const v = a.value
  const mismatch = groupMismatch(v, ctx)
  if (mismatch !== null && v.kind === 'full') {
    emit({ event: 'group-mismatch', pid: v.pid, detail: `${mismatch}; accepted: pid ${v.pid} is a worker of ${target.description}` })
  }
  const newPid = v.kind === 'full' ? v.pid : soleBooting(run.records)
  for (const s of booting(run.records)) if (s.pid === newPid) s.state = 'claimed'
  step.claimedAt = a.at
  step.newPid = newPid
  step.status = v.status
  if (v.kind === 'full') {
    step.release = v.release
    step.bootMs = v.bootMs
  }
  const refused = refusal(verdictOn(v, run.opts.checkRelease), newPid, target.description, () => adapter.wrongReleaseHint(target))
  if (refused) throw new StepFailure(refused.reason, refused.message, newPid)
  step.readyAt = a.at
  emit({
    event: 'ready',
    step: step.index,
    total: run.records.steps.length,
    oldPid: step.oldPid,
    newPid,
    ms: readyMs(step) ?? 0,
    status: step.status,
    release: step.release,
    bootMs: step.bootMs,
    app: v.kind === 'full' ? v.app : null,
  })
}

/** Drop datagrams that can never be ours, logging why once. */
function sweepInbox(run: RollRun, ctx: ArrivalContext): void {
  const dropped: Array<{ a: Arrival; why: string }> = []
  run.input.listener.drop((a) => {
    const why = whyDrop(a.value, run.records, ctx)
    if (why) dropped.push({ a, why })
    return why !== null
  })
  for (const { a, why } of dropped) {
    run.records.ignored.push({ at: Date.now(), pid: a.value.kind === 'full' ? a.value.pid : null, why })
    run.input.emit({
      event: 'datagram-ignored',
      from: a.from,
      reason: 'not-ours',
      detail: why,
      pid: a.value.kind === 'full' ? a.value.pid : undefined,
    })
  }
}

/** Track new workers while they boot; returns one that died before READY, if any. */
function watchBooting(run: RollRun, workers: readonly ProcInfo[]): number | null {
  for (const w of unseen(run.records, workers)) {
    run.records.spawned.push({ pid: w.pid, startTicks: w.startTicks, state: 'booting' })
    run.input.emit({ event: 'spawned', pid: w.pid })
  }
  for (const s of booting(run.records)) {
    if (!run.proc.isSameProcess(s.pid, s.startTicks)) {
      s.state = 'died'
      return s.pid
    }
  }
  return null
}

/** A new worker died before READY: say whether it took the master down with it (Gunicorn halts on a boot error). */
async function diedWhileBooting(run: RollRun, pid: number): Promise<never> {
  await watchMaster(run, MASTER_HALT_GRACE_MS)
  throw new StepFailure(
    'replacement-died',
    `new worker ${pid} of ${run.input.target.description} exited before it reported ready: it crashed or was killed while booting (see the server's error log)`,
    pid,
  )
}
