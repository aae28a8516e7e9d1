/**
 * `rolling-restart [restart]`: resolve -> lock -> check the group's mode -> select -> listen ->
 * preflight -> roll -> record -> report. Returns the exit code; never calls process.exit.
 *
 * The pieces (resolve for a run, preflight, roll with the state file following, record the outcome)
 * are exported for `deploy` and `rollback`, which run them around a `current` symlink swap.
 */
import { resolve as resolvePath } from 'node:path'
import type { Command } from 'commander'
import { DEFAULTS, STRATEGIES, formatMs, parseChoice, parseDuration, parsePositiveInt, parseSize, type NotifyAddress, type Strategy } from '../config.js'
import { EXIT, RefusedError, RollingRestartError, TargetError, UsageError, type ExitCode } from '../errors.js'
import { createOutput, type Output } from '../output/logger.js'
import { childrenViaPs, signal, sleep, usage, type ProcInfo } from '../proc/procfs.js'
import { ReadinessListener } from '../readiness/listener.js'
import type { Readiness } from '../readiness/protocol.js'
import { isOldestPrefix, selectWorkers, type SelectionCriteria } from '../roll/plan.js'
import { roll, type RollOutcome } from '../roll/roller.js'
import { readyMs } from '../roll/records.js'
import { resolveTarget, type Resolved } from '../servers/resolve.js'
import type { Hazard, Target } from '../servers/types.js'
import { acquireLock, type Lock } from '../state/lock.js'
import { readState, stateKey, updateState, type GroupState, type ReplacedEntry } from '../state/state-file.js'
import { planPreflight, type PreflightOptions, type ReleaseUnderTest } from '../preflight/plan.js'
import { runPreflight } from '../preflight/run.js'
import { preflightVerdict, skippedReport, type PreflightReport, type PreflightVerdict } from '../preflight/verdict.js'
import {
  addOutputOptions,
  addTargetOptions,
  loadSecret,
  logFormat,
  notifyAddress,
  printJson,
  stateDir,
  targetOptions,
  type RawTargetFlags,
} from './common.js'

export interface RestartFlags extends RawTargetFlags {
  strategy?: string
  batch?: string
  readyTimeout?: string
  drainTimeout?: string
  notify?: string
  secretFile?: string
  acceptBareOk?: boolean
  expectRelease?: string
  olderThan?: string
  rssAbove?: string
  maxWorkers?: string
  force?: boolean
  json?: boolean
  logFile?: string
  logFormat?: string
  serverConfig?: string
  /** false with --no-preflight */
  preflight?: boolean
  preflightApp?: string
  preflightTimeout?: string
  preflightPython?: string
}

export function addRestartOptions(cmd: Command): Command {
  addTargetOptions(cmd)
  addRollOptions(cmd)
  cmd
    .option('--older-than <duration>', 'only restart workers running longer than this (e.g. 12h)')
    .option('--rss-above <size>', 'only restart workers using more memory than this (e.g. 512M)')
    .option('--max-workers <k>', 'restart at most this many workers in this run')
  addPreflightOptions(cmd)
  return addOutputOptions(cmd)
}

/** How each worker is replaced: shared by restart, deploy and rollback. */
export function addRollOptions(cmd: Command): Command {
  return cmd
    .option('--strategy <name>', `replace (stop one, wait for its replacement) or surge (start one more first; Gunicorn)`, DEFAULTS.strategy)
    .option('--batch <n>', 'workers in flight at once', String(DEFAULTS.batch))
    .option('--ready-timeout <duration>', 'how long a new worker may take to report ready', `${DEFAULTS.readyTimeoutMs / 1000}s`)
    .option('--drain-timeout <duration>', 'how long an old worker may take to finish its requests and exit', `${DEFAULTS.drainTimeoutMs / 1000}s`)
    .option('--notify <host:port>', `where to listen for readiness datagrams (env ROLLING_RESTART_NOTIFY; default ${DEFAULTS.notify})`)
    .option('--secret-file <file>', 'require datagrams signed with the key in this file (env ROLLING_RESTART_SECRET_FILE)')
    .option('--accept-bare-ok', 'accept a bare "200 OK" datagram from older hand-made hooks (batch 1 only)')
    .option('--expect-release <id>', "fail a step whose new worker reports another RELEASE")
    .option('--force', 'run even though the group is in error-resistance mode')
}

export function addPreflightOptions(cmd: Command): Command {
  return cmd
    .option('--no-preflight', 'do not load the app in a throwaway interpreter before touching the first worker')
    .option('--preflight-app <spec>', "what the preflight loads (module:callable, or a .wsgi path) when the server's command line does not say")
    .option('--preflight-timeout <duration>', 'how long the preflight may take to import the app and probe its status page', `${DEFAULTS.preflightTimeoutMs / 1000}s`)
    .option('--preflight-python <path>', "the interpreter for the preflight, when it is not the master's own")
    .option('--server-config <file>', "the server's config file (the file given to gunicorn -c), read for the app spec, chdir and preload_app when the master's command line is hidden by its process title")
}

export interface RestartPlan {
  strategy: Strategy
  batch: number
  readyTimeoutMs: number
  drainTimeoutMs: number
  criteria: SelectionCriteria
  expectRelease: string | null
  /** null with --no-preflight */
  preflight: PreflightOptions | null
  notify: NotifyAddress
  /** the HMAC key, or null without --secret-file / ROLLING_RESTART_SECRET_FILE */
  secret: Buffer | null
  acceptBareOk: boolean
}

/** Every flag checked before anything is looked up or touched. */
export function parseRestartFlags(f: RestartFlags): RestartPlan {
  const strategy = parseChoice('--strategy', f.strategy ?? DEFAULTS.strategy, STRATEGIES)
  const batch = parsePositiveInt('--batch', f.batch ?? String(DEFAULTS.batch), { min: 1, max: 64 })
  if (f.acceptBareOk && batch > 1) {
    throw new UsageError('--accept-bare-ok needs --batch 1: a bare "200 OK" carries no pid, so with several workers in flight it cannot be told apart')
  }
  return {
    strategy,
    batch,
    readyTimeoutMs: f.readyTimeout !== undefined ? parseDuration('--ready-timeout', f.readyTimeout) : DEFAULTS.readyTimeoutMs,
    drainTimeoutMs: f.drainTimeout !== undefined ? parseDuration('--drain-timeout', f.drainTimeout) : DEFAULTS.drainTimeoutMs,
    criteria: {
      olderThanMs: f.olderThan !== undefined ? parseDuration('--older-than', f.olderThan) : undefined,
      rssAboveBytes: f.rssAbove !== undefined ? parseSize('--rss-above', f.rssAbove) : undefined,
      maxWorkers: f.maxWorkers !== undefined ? parsePositiveInt('--max-workers', f.maxWorkers) : undefined,
    },
    expectRelease: f.expectRelease ?? null,
    notify: notifyAddress(f.notify),
    secret: loadSecret(f.secretFile),
    acceptBareOk: f.acceptBareOk ?? false,
    preflight:
      f.preflight === false
        ? null
        : {
            app: f.preflightApp,
            python: f.preflightPython,
            timeoutMs: f.preflightTimeout !== undefined ? parseDuration('--preflight-timeout', f.preflightTimeout) : DEFAULTS.preflightTimeoutMs,
          },
  }
}

export interface RestartReport {
  ok: boolean
  group: string
  server: string
  masterPid: number
  strategy: Strategy
  batch: number
  workers: number[]
  selected: number[]
  skipped: Array<{ pid: number; why: string }>
  replaced: ReplacedEntry[]
  aborted: { reason: string; message: string; oldPid: number | null; newPid: number | null } | null
  errorResistance: boolean
  untouched: number[]
  surplus: number
  durationMs: number
  message: string
  /** null with --no-preflight; `ran: false` when it was skipped (see `skipped`) */
  preflight: PreflightReport | null
}

export async function restartCommand(flags: RestartFlags, interrupt?: AbortSignal): Promise<ExitCode | 130> {
  const plan = parseRestartFlags(flags)
  const out = createOutput({ logFile: flags.logFile, format: logFormat(flags.logFormat) })
  try {
    return await restart(flags, plan, out, interrupt)
  } catch (err) {
    if (err instanceof Interrupted) return interrupted(err, out)
    throw err
  } finally {
    out.flush()
  }
}

/** Take the group's lock (one run per group), saying so when it was left by a dead run. */
export async function lockGroup(dir: string, target: Target, out: Output): Promise<{ key: string; lock: Lock }> {
  const key = stateKey(target.server, target.group)
  const lock = await acquireLock(dir, key, target.group)
  if (lock.recoveredFrom) {
    out.logger.warn({ event: 'lock-recovered', holder: lock.recoveredFrom }, `recovered the lock left by a dead run (pid ${lock.recoveredFrom.pid})`)
  }
  return { key, lock }
}

async function restart(flags: RestartFlags, plan: RestartPlan, out: Output, interrupt?: AbortSignal): Promise<ExitCode | 130> {
  const dir = stateDir(flags)
  const resolved = resolveForRun(flags, plan, out)
  const { target } = resolved
  const { key, lock } = await lockGroup(dir, target, out)
  try {
    const prior = readState(dir, key)
    refuseInErrorResistance(prior, flags, target.group)
    const hazards = warnHazards(resolved, out)

    const workers = await stableWorkers(resolved, out)
    if (workers.length === 0) {
      throw new TargetError(`${target.description} has no workers right now: is it starting up or shutting down?`, 'no-workers')
    }
    // a worker still booting after stableWorkers() waited is left out: signalling it could go astray
    const booting = bootingWorkers(resolved, workers)
    const selection = await select(workers.filter((w) => !booting.some((b) => b.pid === w.pid)), plan.criteria)
    selection.skipped.push(...booting)
    if (plan.strategy === 'surge' && !isOldestPrefix(workers, selection.selected)) {
      throw new UsageError(
        `--strategy surge lets the master retire its oldest workers (Gunicorn TTOU), but this selection picks others ` +
          `(${selection.selected.map((w) => w.pid).join(', ')}). Use --strategy replace with --rss-above`,
      )
    }
    const selected = selection.selected.map((s) => workers.find((w) => w.pid === s.pid) as ProcInfo)

    if (selected.length === 0) {
      const report = baseReport(resolved, plan, workers, [], selection.skipped)
      report.message = `nothing to do: none of the ${workers.length} workers matches the selection`
      out.logger.info({ event: 'nothing-selected', skipped: selection.skipped }, report.message)
      out.progress(report.message)
      if (flags.json) printJson(report)
      return EXIT.OK
    }

    checkPermission(target.masterPid, target.description)
    for (const w of selected) checkPermission(w.pid, `worker ${w.pid}`)

    const listener = await openListener(plan, out)
    let outcome: RollOutcome
    let preflight: PreflightReport | null
    try {
      const verdict = await preflightStep(resolved, plan, out, undefined, interrupt, prior)
      preflight = verdict?.report ?? null
      if (verdict?.failure) {
        return preflightFailed(flags, dir, resolved, plan, workers, selection.skipped, verdict, out)
      }
      outcome = await rollTracked({
        dir,
        resolved,
        listener,
        workers,
        selected,
        plan,
        flags,
        out,
        interrupt,
        checkRelease: plan.expectRelease !== null ? releaseCheck(plan.expectRelease, hazards) : undefined,
        surplus: prior?.surplus ?? 0,
      })
    } finally {
      await listener.close()
    }
    return finish(flags, dir, resolved, plan, workers, selection.skipped, outcome, out, preflight)
  } finally {
    lock.release()
  }
}

/** Ctrl-C / SIGTERM before any worker was touched: exit 130, nothing recorded against the group. */
export class Interrupted extends Error {}

export function interrupted(err: Interrupted, out: Output): 130 {
  out.logger.warn({ event: 'interrupted' }, err.message)
  process.stderr.write(`rolling-restart: ${err.message}\n`)
  return 130
}

/** Resolve the target (with --server-config) and check the strategy fits the server. */
export function resolveForRun(flags: RestartFlags, plan: Pick<RestartPlan, 'strategy'>, out: Output): Resolved {
  const resolved = resolveTarget({ ...targetOptions(flags), configFile: flags.serverConfig !== undefined ? resolvePath(flags.serverConfig) : undefined })
  const { adapter, target } = resolved
  out.logger.info({ event: 'resolved', server: target.server, group: target.group, masterPid: target.masterPid, via: target.via }, resolved.picked)
  if (flags.server === 'auto' || flags.server === undefined) out.progress(resolved.picked)
  if (plan.strategy === 'surge' && !adapter.canSurge) {
    throw new UsageError(
      `--strategy surge needs a server that can run one extra worker on request; ${adapter.label} cannot ` +
        `(its process count is fixed by its configuration). Use --strategy replace`,
    )
  }
  return resolved
}

export function refuseInErrorResistance(prior: GroupState | null, flags: RestartFlags, group: string): void {
  if (prior?.errorResistance && !flags.force) {
    const er = prior.errorResistance
    throw new RefusedError(
      `group '${group}' is in error-resistance mode since ${er.at}: ${er.message}\n` +
        `Nothing was touched. Fix the cause, then run \`rolling-restart resume ${flagsForMessage(flags)}\` (or pass --force to roll anyway)`,
      'error-resistance',
    )
  }
}

/** Log what the adapter sees as unsafe (doctor explains it in full); a run is not stopped by it. */
function warnHazards(resolved: Resolved, out: Output): Hazard[] {
  let hazards: Hazard[] = []
  try {
    hazards = resolved.adapter.hazards?.(resolved.target) ?? []
  } catch (err) {
    out.logger.warn({ event: 'hazards-failed', error: (err as Error).message }, 'could not check for hazards')
  }
  for (const h of hazards.filter((x) => x.severity === 'error')) {
    out.logger.warn({ event: 'hazard', ...h }, `${h.message}. Fix: ${h.fix}`)
    out.progress(`warning: ${h.message} (see rolling-restart doctor)`)
  }
  return hazards
}

export function openListener(plan: RestartPlan, out: Output): Promise<ReadinessListener> {
  return ReadinessListener.open(plan.notify, { secret: plan.secret, acceptBareOk: plan.acceptBareOk }, (r) =>
    out.event({ event: 'datagram-ignored', from: r.from, reason: r.reason, detail: r.detail }),
  )
}

/** The app spec a worker of this group reported (APP=) in an earlier run, kept in the state file. */
export function learnedAppOf(state: GroupState | null): PreflightOptions['learned'] {
  const app = state?.extra.app as { spec?: unknown; reportedBy?: unknown; at?: unknown } | undefined
  return typeof app?.spec === 'string' ? { spec: app.spec, from: `reported by worker ${String(app.reportedBy)} (APP=) at ${String(app.at)}` } : undefined
}

/**
 * Load the app in a throwaway interpreter, the way the workers will. null with --no-preflight; a
 * skipped report when the app spec is unknown (logged as a warning). `release`: a deploy's new release.
 */
export async function preflightStep(
  resolved: Resolved,
  plan: RestartPlan,
  out: Output,
  release?: ReleaseUnderTest,
  interrupt?: AbortSignal,
  prior: GroupState | null = null,
): Promise<PreflightVerdict | null> {
  if (plan.preflight === null) {
    out.logger.info({ event: 'preflight-off' }, 'preflight off (--no-preflight)')
    return null
  }
  const p = planPreflight(resolved.adapter, resolved.target, { ...plan.preflight, learned: learnedAppOf(prior) }, release)
  if (p.kind === 'skip') {
    out.logger.warn({ event: 'preflight-skipped', why: p.why }, `preflight skipped: ${p.why}`)
    out.progress(`warning: preflight skipped: ${p.why}`)
    return { report: skippedReport(p.why), failure: null }
  }
  const inv = p.invocation
  out.logger.info({ event: 'preflight-start', spec: inv.spec, chdir: inv.chdir, python: inv.python, uid: inv.uid, sources: p.sources }, `preflight: loading ${inv.spec} in ${inv.chdir}`)
  out.progress(`preflight: loading ${inv.spec} in ${inv.chdir} with ${inv.python} ...`)
  const verdict = preflightVerdict(p, await runPreflight(inv, interrupt))
  if (interrupt?.aborted) {
    out.logger.warn({ event: 'preflight-interrupted' }, 'interrupted during the preflight; nothing was touched')
    throw new Interrupted('interrupted during the preflight; no worker was touched')
  }
  const r = verdict.report
  if (verdict.failure) {
    out.logger.error({ event: 'preflight-failed', ...r, kind: verdict.failure.kind }, verdict.failure.message)
  } else {
    const line = `preflight ok: ${r.status} in ${formatMs(r.durationMs)}` + (r.release ? ` (release ${r.release})` : '')
    out.logger.info({ event: 'preflight-ok', ...r }, line)
    out.progress(line)
  }
  return verdict
}

/**
 * A failed preflight touched nothing. When the release is at fault, the group enters
 * error-resistance mode (reason `preflight`) and the run exits 4; when the preflight could not even
 * run, exit 1 and the mode is left alone.
 */
function preflightFailed(
  flags: RestartFlags,
  dir: string,
  resolved: Resolved,
  plan: RestartPlan,
  workers: ProcInfo[],
  skipped: Array<{ pid: number; why: string }>,
  verdict: PreflightVerdict,
  out: Output,
): ExitCode {
  const failure = verdict.failure as NonNullable<PreflightVerdict['failure']>
  if (failure.kind === 'could-not-run') throw new RollingRestartError(failure.message, EXIT.INTERNAL, 'preflight-error')
  const { target } = resolved
  const report = baseReport(resolved, plan, workers, [], skipped)
  report.preflight = verdict.report
  report.ok = false
  report.errorResistance = true
  report.untouched = workers.map((w) => w.pid)
  report.aborted = { reason: 'preflight', message: failure.message, oldPid: null, newPid: null }
  report.message =
    `preflight failed, no worker was touched: ${failure.message}\n` +
    `Group '${target.group}' is now in error-resistance mode: later runs exit 5 until \`rolling-restart resume\`.`
  recordErrorResistance(dir, resolved, { reason: 'preflight', message: failure.message, untouched: report.untouched })
  out.logger.error({ event: 'report', ...report }, report.message)
  out.progress(report.message)
  if (flags.json) printJson(report)
  return EXIT.ABORTED
}

/** Enter error-resistance mode for a failure outside a roll (preflight), recording the run. */
export function recordErrorResistance(dir: string, resolved: Resolved, what: { reason: string; message: string; untouched: number[] }): void {
  const { target } = resolved
  updateState(dir, { key: stateKey(target.server, target.group), group: target.group, server: target.server, masterPid: target.masterPid }, (s) => {
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
    s.runs = [...s.runs, { at: new Date().toISOString(), ok: false, replaced: 0, aborted: what.reason, durationMs: 0 }].slice(-20)
  })
}

export interface TrackedRoll {
  dir: string
  resolved: Resolved
  listener: ReadinessListener
  /** every worker at the start, oldest first */
  workers: ProcInfo[]
  selected: ProcInfo[]
  plan: RestartPlan
  flags: RestartFlags
  out: Output
  interrupt?: AbortSignal | undefined
  checkRelease?: ((r: Readiness) => string | null) | undefined
  surplus: number
}

/** Roll, with the state file following every transition (for `status` during the run). */
export async function rollTracked(r: TrackedRoll): Promise<RollOutcome> {
  const { target, adapter } = r.resolved
  const key = stateKey(target.server, target.group)
  const keyInit = { key, group: target.group, server: target.server, masterPid: target.masterPid }
  const record = (fn: (s: GroupState) => void) => updateState(r.dir, keyInit, fn)
  record((s) => {
    s.roll = {
      runPid: process.pid,
      startedAt: new Date().toISOString(),
      strategy: r.plan.strategy,
      total: r.selected.length,
      done: 0,
      inFlight: [],
      oldPids: r.workers.map((w) => w.pid),
    }
  })
  return roll({
    adapter,
    target,
    listener: r.listener,
    workers: r.workers,
    selected: r.selected,
    interrupt: r.interrupt,
    options: {
      strategy: r.plan.strategy,
      batch: r.plan.batch,
      readyTimeoutMs: r.plan.readyTimeoutMs,
      drainTimeoutMs: r.plan.drainTimeoutMs,
      masterReactTimeoutMs: DEFAULTS.masterReactTimeoutMs,
      pollIntervalMs: DEFAULTS.pollIntervalMs,
      acceptBareOk: r.plan.acceptBareOk,
      checkRelease: r.checkRelease,
      surplusToRetire: r.surplus,
    },
    emit: (e) => {
      r.out.event(e)
      if (e.event === 'ready' && e.newPid !== null) {
        record((s) => {
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
          }
          // what the workers say they load: the next preflight's app spec when the master's command line is hidden
          if (e.app) s.extra.app = { spec: e.app, reportedBy: e.newPid, at: new Date().toISOString() }
          if (s.roll) s.roll.done++
        })
      }
    },
    onProgress: (steps) =>
      record((s) => {
        if (s.roll) s.roll.inFlight = steps.filter((x) => x.state === 'signaled' || x.state === 'exited' || x.state === 'awaiting-ready').map((x) => x.oldPid ?? 0)
      }),
  })
}

function finish(
  flags: RestartFlags,
  dir: string,
  resolved: Resolved,
  plan: RestartPlan,
  workers: ProcInfo[],
  skipped: Array<{ pid: number; why: string }>,
  outcome: RollOutcome,
  out: Output,
  preflight: PreflightReport | null,
): ExitCode | 130 {
  const { target } = resolved
  const interrupted = outcome.aborted?.reason === 'interrupted'
  const replaced = recordOutcome(dir, resolved, outcome)
  const report = baseReport(resolved, plan, workers, outcome.steps.map((s) => s.oldPid ?? 0), skipped)
  report.preflight = preflight
  report.ok = outcome.ok
  report.replaced = replaced
  report.aborted = outcome.aborted
  report.errorResistance = !outcome.ok && !interrupted
  report.untouched = outcome.untouched
  report.surplus = Math.max(0, outcome.surplus)
  report.durationMs = outcome.durationMs

  if (outcome.ok) {
    report.message = `${replaced.length} of ${workers.length} workers of ${target.description} replaced in ${formatMs(outcome.durationMs)}`
  } else if (interrupted) {
    report.message = `interrupted after ${replaced.length} of ${outcome.steps.length} workers; the group is not in error-resistance mode`
  } else {
    const a = outcome.aborted as NonNullable<RollOutcome['aborted']>
    report.message =
      `stopped after ${replaced.length} of ${outcome.steps.length} workers: ${a.message}. ` +
      `${outcome.untouched.length} old worker(s) were not touched and keep serving (${outcome.untouched.join(', ') || 'none'}). ` +
      `Group '${target.group}' is now in error-resistance mode: later runs exit 5 until \`rolling-restart resume\`.` +
      (outcome.surplus > 0 ? ` The master runs ${outcome.surplus} worker(s) above its configured count; the next good run retires them.` : '')
  }
  out.logger[outcome.ok ? 'info' : 'error']({ event: 'report', ...report }, report.message)
  if (!outcome.ok) out.progress(report.message)
  if (flags.json) printJson(report)
  if (outcome.ok) return EXIT.OK
  return interrupted ? 130 : EXIT.ABORTED
}

export function replacedEntries(outcome: RollOutcome): ReplacedEntry[] {
  return outcome.steps
    .filter((s) => s.state === 'ready')
    .map((s) => ({ oldPid: s.oldPid ?? 0, newPid: s.newPid ?? 0, readyMs: readyMs(s) ?? 0, status: s.status, release: s.release }))
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
  errorResistance?: { reason: string; message: string; untouched?: number[]; replaced?: ReplacedEntry[] },
  also?: (s: GroupState) => void,
): ReplacedEntry[] {
  const { target } = resolved
  const replaced = replacedEntries(outcome)
  const interrupted = outcome.aborted?.reason === 'interrupted'
  const enterErrorResistance = errorResistance !== undefined || (!outcome.ok && !interrupted)
  const live = new Set(resolved.adapter.workers(target).map((w) => w.pid))
  updateState(dir, { key: stateKey(target.server, target.group), group: target.group, server: target.server, masterPid: target.masterPid }, (s) => {
    s.roll = null
    // keep records only for workers that are still alive
    for (const pid of Object.keys(s.workers)) if (!live.has(Number(pid))) delete s.workers[pid]
    s.surplus = Math.max(0, s.surplus + outcome.surplus)
    for (const step of outcome.steps) {
      // a new worker that answered READY=0 (or the wrong release) is still running: say so in `status`
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
        }
      }
    }
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
    ].slice(-20)
    also?.(s)
  })
  return replaced
}

export function baseReport(
  resolved: Resolved,
  plan: RestartPlan,
  workers: ProcInfo[],
  selected: number[],
  skipped: Array<{ pid: number; why: string }>,
): RestartReport {
  return {
    ok: true,
    group: resolved.target.group,
    server: resolved.target.server,
    masterPid: resolved.target.masterPid,
    strategy: plan.strategy,
    batch: plan.batch,
    workers: workers.map((w) => w.pid),
    selected,
    skipped,
    replaced: [],
    aborted: null,
    errorResistance: false,
    untouched: [],
    surplus: 0,
    durationMs: 0,
    message: '',
    preflight: null,
  }
}

/**
 * The workers to plan with: the adapter's view (/proc) checked against ps(1)'s view of the master's
 * children (ps-tree). A pid in only one of them is starting or exiting right now; it is left out of
 * this run rather than signalled mid-transition.
 */
export async function stableWorkers(resolved: Resolved, out: Output): Promise<ProcInfo[]> {
  await settleBooting(resolved, out)
  return stableList(resolved, out)
}

/** Workers the adapter says must not be signalled yet (uWSGI: still booting), with why. */
export function bootingWorkers(resolved: Resolved, workers: ProcInfo[]): Array<{ pid: number; why: string }> {
  const check = resolved.adapter.stillBooting
  if (!check) return []
  return workers.flatMap((w) => {
    const why = check(resolved.target, w)
    return why ? [{ pid: w.pid, why }] : []
  })
}

/** Wait, at most the default ready timeout, until no worker is booting (uWSGI: signalling one then stops another). */
async function settleBooting(resolved: Resolved, out: Output): Promise<void> {
  if (!resolved.adapter.stillBooting) return
  const deadline = Date.now() + DEFAULTS.readyTimeoutMs
  let booting = bootingWorkers(resolved, resolved.adapter.workers(resolved.target))
  if (booting.length === 0) return
  out.logger.info({ event: 'await-booting', workers: booting }, `waiting for ${booting.length} worker(s) to finish booting before planning`)
  while (booting.length && Date.now() < deadline) {
    await sleep(DEFAULTS.pollIntervalMs * 4)
    booting = bootingWorkers(resolved, resolved.adapter.workers(resolved.target))
  }
  for (const b of booting) {
    const line = `still booting after ${formatMs(DEFAULTS.readyTimeoutMs)}, so not signalled: ${b.why}`
    out.logger.warn({ event: 'still-booting', ...b }, line)
    out.progress(`warning: ${line}`)
  }
}

async function stableList(resolved: Resolved, out: Output): Promise<ProcInfo[]> {
  const viaProc = resolved.adapter.workers(resolved.target)
  let viaPs: Set<number>
  try {
    viaPs = new Set((await childrenViaPs(resolved.target.masterPid)).map((p) => p.pid))
  } catch (err) {
    out.logger.warn({ event: 'ps-failed', error: (err as Error).message }, 'ps(1) could not list the process tree; using /proc alone')
    return viaProc
  }
  const stable = viaProc.filter((w) => viaPs.has(w.pid))
  const moving = viaProc.filter((w) => !viaPs.has(w.pid)).map((w) => w.pid)
  if (moving.length) out.logger.info({ event: 'in-transition', pids: moving }, `left out ${moving.length} worker(s) that are starting or exiting right now`)
  return stable
}

async function select(workers: ProcInfo[], criteria: SelectionCriteria) {
  const rss = criteria.rssAboveBytes !== undefined ? await usage(workers.map((w) => w.pid)) : new Map()
  return selectWorkers(
    workers.map((w) => ({ pid: w.pid, startedAt: w.startedAt, rssBytes: rss.get(w.pid)?.rssBytes })),
    criteria,
    Date.now(),
  )
}

/**
 * --expect-release: the new worker's RELEASE must be this. With preload_app on, a RELEASE that
 * matches proves nothing: the hook reads the REVISION file when it reports, while the worker runs
 * the code its master imported at start. Such a step fails, naming the cause.
 */
export function releaseCheck(expected: string, hazards: readonly Hazard[] = []) {
  const preload = hazards.find((h) => h.id === 'preload-app' && h.severity === 'error')
  return (r: Readiness): string | null => {
    const root = r.root ? ` (ROOT=${r.root})` : ''
    if (r.release === expected) {
      return preload
        ? `reported RELEASE=${r.release}${root}, but that is what is on disk, not what it runs: it is a fork of a master that preloaded the app (preload_app), so it runs the code the master loaded when it started`
        : null
    }
    return r.release === null
      ? `reported no RELEASE${root}, expected ${JSON.stringify(expected)} (set ROLLING_RESTART_RELEASE or ship a REVISION file with the app)`
      : `reported RELEASE=${r.release}${root}, expected ${expected}`
  }
}

export function checkPermission(pid: number, what: string): void {
  if (signal(pid, 0) === 'denied') {
    throw new TargetError(`not permitted to signal ${what} (pid ${pid}): run rolling-restart as the server's user or as root`, 'denied')
  }
}

export function flagsForMessage(f: RawTargetFlags): string {
  if (f.group !== undefined) return `--group ${f.group}`
  if (f.pidfile !== undefined) return `--pidfile ${f.pidfile}`
  return `--master ${f.master}`
}

