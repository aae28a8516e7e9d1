/**
 * Await a replacement's readiness: each round, one look at the process table (observe.ts), then
 * drop the datagrams that can never be ours, claim the one from the worker this step's signal
 * caused, and watch the new workers while they boot. What counts as ours, and what a readiness
 * says, is the policy's (policy.ts, attribution.ts).
 */
import { formatMs } from '../config.js'
import type { ProcInfo } from '../proc/procfs.js'
import { isReady } from '../readiness/protocol.js'
import type { Arrival } from '../readiness/listener.js'
import { creditedTo, heardFrom, isStepsOwn, whyNotCaused } from './attribution.js'
import { StepFailure } from './failure.js'
import { observe } from './observe.js'
import { bootingPause } from './pace.js'
import { groupMismatch, readyTimeoutMessage, refusal, sentBeforeItDied, startsNext, verdictOn, whyDrop, whyNotOurs, type ArrivalContext } from './policy.js'
import { ignoredSince, newestBooting, readyMs, soleBooting, spawnOf, type SpawnRecord, type StepRecord } from './records.js'
import type { RollRun } from './types.js'
import { watchMaster, watchRound } from './watch.js'

/** How long to watch the master after a new worker died while booting: Gunicorn halts right after it reaps a worker that exited with a boot error. */
const MASTER_HALT_GRACE_MS = 2_000

export async function awaitReady(run: RollRun, step: StepRecord): Promise<void> {
  const { listener } = run.input
  const deadline = Date.now() + run.opts.readyTimeoutMs
  while (true) {
    // one look at the workers per round: every datagram and the booting check use it
    const workers = observe(run, false, watchRound(run))
    const ctx = arrivalContext(run, liveSenders(run, workers))
    sweepInbox(run, ctx)
    const got = listener.claim((a) => isOurs(run, a, ctx) && isStepsOwn(a.value, run.records, step))
    if (got) {
      claimReadiness(run, step, got, ctx)
      return
    }
    const died = watchNew(run)
    if (died !== null) await diedUnclaimed(run, died)
    if (Date.now() > deadline) throw timedOut(run, step)
    await listener.wait(creditedTo(run.records, step) !== null ? bootingPause(run.opts) : run.opts.pollIntervalMs)
  }
}

/**
 * Whether a datagram is ours: its sender as it is now is a new worker of the master, or it is one
 * of this run's new workers that sent it and died before this round (its READY was real; what
 * became of it after is the watch of accepted replacements' to judge, watch-accepted.ts).
 */
function isOurs(run: RollRun, a: Arrival, ctx: ArrivalContext): boolean {
  return whyNotOurs(a.value, run.records, ctx) === null || sentBeforeItDied(a.value, run.records, ctx)
}

/** The workers' pids, less the senders of waiting datagrams that have died since the look: a datagram is judged against its sender as it is now. */
function liveSenders(run: RollRun, workers: readonly ProcInfo[]): Set<number> {
  const live = new Set(workers.map((w) => w.pid))
  for (const { value: v } of run.input.listener.pending?.() ?? []) {
    const w = v.kind === 'full' ? workers.find((x) => x.pid === v.pid) : undefined
    if (w && !run.proc.isSameProcess(w.pid, w.startTicks)) live.delete(w.pid)
  }
  return live
}

function timedOut(run: RollRun, step: StepRecord): StepFailure {
  const { listener, adapter, target } = run.input
  const since = step.startedAt ?? 0
  const ignored = [
    ...ignoredSince(run.records, since),
    ...listener.rejectedSince(since).map((r) => `a datagram from ${r.from}: ${r.detail} (${r.reason})`),
  ]
  const message = readyTimeoutMessage(formatMs(run.opts.readyTimeoutMs), ignored, () => adapter.noReadyHint(target))
  return new StepFailure('ready-timeout', message, creditedTo(run.records, step)?.pid ?? newestBooting(run.records))
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
  const newPid = v.kind === 'full' ? v.pid : (creditedTo(run.records, step)?.pid ?? soleBooting(run.records))
  const spawn = newPid === null ? null : spawnOf(run.records, newPid)
  if (spawn) spawn.state = 'claimed'
  step.claimedAt = a.at
  step.newPid = newPid
  step.newStartTicks = spawn?.startTicks ?? null
  step.status = v.status
  if (v.kind === 'full') {
    step.release = v.release
    step.bootMs = v.bootMs
    step.hookVersion = v.hookVersion ?? null
    step.preload = v.preload
  }
  const verdict = verdictOn(v, run.opts.checkRelease, run.opts.recycle)
  const refused = refusal(verdict, newPid, target.description, () => adapter.wrongReleaseHint(target))
  if (refused) throw new StepFailure(refused.reason, refused.message, newPid)
  // --recycle: it runs the master's code; what is on disk (RELEASE, ROOT) says nothing about it
  if (verdict.verdict === 'recycled') step.release = null
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
    startTicks: step.newStartTicks,
    preload: step.preload,
    app: v.kind === 'full' ? v.app : null,
    ...(step.hookVersion !== undefined ? { hookVersion: step.hookVersion } : {}),
    next: startsNext(run.records, step, run.opts.waitMinReady),
  })
}

/** Drop datagrams that can never be ours, logging why once; note which new workers have been heard from. */
function sweepInbox(run: RollRun, ctx: ArrivalContext): void {
  const dropped: Array<{ a: Arrival; reason: string; why: string }> = []
  run.input.listener.drop((a) => {
    const notOurs = sentBeforeItDied(a.value, run.records, ctx) ? null : whyDrop(a.value, run.records, ctx)
    const why = notOurs ?? whyNotCaused(a.value, run.records)
    if (notOurs === null && a.value.kind === 'full') heardFrom(run.records, a.value.pid, a.at, isReady(a.value))
    if (why) dropped.push({ a, reason: notOurs ? 'not-ours' : 'not-caused-by-step', why })
    return why !== null
  })
  for (const { a, reason, why } of dropped) {
    const pid = a.value.kind === 'full' ? a.value.pid : undefined
    run.records.ignored.push({ at: Date.now(), pid: pid ?? null, why })
    run.input.emit({ event: 'datagram-ignored', from: a.from, reason, detail: why, pid })
  }
}

/** A new worker this run watches that is gone: one still booting, or a step's replacement that reported and was not taken yet. */
function watchNew(run: RollRun): SpawnRecord | null {
  for (const s of run.records.spawned) {
    const watched = s.state === 'booting' || (s.state === 'heard' && s.cause?.kind === 'step')
    if (watched && !run.proc.isSameProcess(s.pid, s.startTicks)) {
      s.state = 'died'
      return s
    }
  }
  return null
}

/** A new worker died before a step took it: say whether it took the master down with it (Gunicorn halts on a boot error). */
async function diedUnclaimed(run: RollRun, s: SpawnRecord): Promise<never> {
  const { description } = run.input.target
  if (s.heardAt !== null) {
    const said = s.heardReady ? 'sent READY' : 'reported'
    throw new StepFailure(
      'replacement-died',
      `new worker ${s.pid} of ${description} ${said} and died ${formatMs(Date.now() - s.heardAt)} later, before its step took it`,
      s.pid,
    )
  }
  await watchMaster(run, MASTER_HALT_GRACE_MS)
  throw new StepFailure(
    'replacement-died',
    `new worker ${s.pid} of ${description} exited before it reported ready: it crashed or was killed while booting (see the server's error log)`,
    s.pid,
  )
}
